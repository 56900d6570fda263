from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Users"

    def ready(self) -> None:
        from django.db.models.signals import pre_delete

        from users import schema  # noqa: F401 - registers the OpenAPI auth extension
        from users.models import User

        # A deletion (the admin's, a queryset's, a cascade) never calls User.save(); knox's
        # tokens go with the user's row, their cached lookups go here. A signal because no
        # override of delete() sees a queryset's or a cascade's deletion.
        pre_delete.connect(_user_deleted, sender=User, dispatch_uid="users.revoke_on_delete")


def _user_deleted(sender, instance, **kwargs) -> None:
    instance.revoke_credentials(delete_tokens=False)  # the database cascade deletes them
