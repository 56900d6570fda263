from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Users"

    def ready(self) -> None:
        from django.contrib.auth.models import Group, Permission
        from django.db.models.signals import m2m_changed, pre_delete

        from users import schema  # noqa: F401 - registers the OpenAPI auth extension
        from users.models import User

        # A deletion (the admin's, a queryset's, a cascade) never calls User.save(); knox's
        # tokens go with the user's row, their cached lookups go here. A signal because no
        # override of delete() sees a queryset's or a cascade's deletion.
        pre_delete.connect(_user_deleted, sender=User, dispatch_uid="users.revoke_on_delete")

        # Permissions travel with the cached token lookup (users.credentials), so a change of
        # them must drop it. STYLE.md keeps signals out of business effects; this is not one:
        # it invalidates a cached copy of rows that django.contrib.auth writes itself. The
        # admin's group and permission pickers, `user.groups.add()` or
        # `group.permissions.set()` in a shell write those many-to-many rows through Django's
        # related managers, which call no code of ours: `m2m_changed` is the one hook they
        # pass. A deletion's cascade of those rows sends no `m2m_changed`, hence `pre_delete`
        # for groups and permissions (their users are read before the rows go).
        m2m_changed.connect(_user_access_changed, sender=User.groups.through, dispatch_uid="users.access.groups")
        m2m_changed.connect(
            _user_access_changed, sender=User.user_permissions.through, dispatch_uid="users.access.user_permissions"
        )
        m2m_changed.connect(
            _group_permissions_changed, sender=Group.permissions.through, dispatch_uid="users.access.group_permissions"
        )
        pre_delete.connect(_group_deleted, sender=Group, dispatch_uid="users.access.group_deleted")
        pre_delete.connect(_permission_deleted, sender=Permission, dispatch_uid="users.access.permission_deleted")


def _user_deleted(sender, instance, **kwargs) -> None:
    instance.revoke_credentials(delete_tokens=False)  # the database cascade deletes them


# The many-to-many actions after which a user's permissions differ. A clear is seen before it
# happens, while the rows still say whom it concerns.
_CHANGING = {"post_add", "post_remove", "pre_clear"}


def _user_access_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    """User.groups or User.user_permissions, changed from either side: `user.groups.add(g)`
    (instance: the user) or `group.user_set.add(u)` (instance: the group or permission)."""
    from users.credentials import access_changed

    if action not in _CHANGING or (action != "pre_clear" and not pk_set):  # pk_set: the rows really added
        return
    if not reverse:
        access_changed([instance.pk])
    elif action == "pre_clear":
        access_changed(instance.user_set.values("pk"))
    else:
        access_changed(pk_set)


def _group_permissions_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    """Group.permissions, from either side: every member of the groups concerned."""
    from users.credentials import access_changed
    from users.models import User

    if action not in _CHANGING or (action != "pre_clear" and not pk_set):
        return
    if not reverse:
        groups = [instance.pk]
    elif action == "pre_clear":
        groups = instance.group_set.values("pk")
    else:
        groups = pk_set
    access_changed(User.objects.filter(groups__in=groups).values("pk"))


def _group_deleted(sender, instance, **kwargs) -> None:
    from users.credentials import access_changed

    access_changed(instance.user_set.values("pk"))


def _permission_deleted(sender, instance, **kwargs) -> None:
    from django.db.models import Q

    from users.credentials import access_changed
    from users.models import User

    holders = User.objects.filter(Q(user_permissions=instance) | Q(groups__permissions=instance))
    access_changed(holders.values("pk"))
