"""The user pages. Every path here ends in `User.save()`, which revokes as the API does
(`users.credentials`); the activation actions call `users.services.user_update`, as the
API does. A user's page links to their bookings and payments (and a driver's page to the
bookings they drive).

Who may change whom is `users.services.user_change_check`, asked by every door here: the
change and add forms (a refused field is a form error, a forged one 403), the change
permission of one user (so another staff member's page, their password page and their
deletion are closed to anyone but a superuser), and the actions (through `user_update`).
Non-superusers see superuser status, groups and permissions read-only and are not offered
the `admin` role."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import format_html
from knox.admin import AuthTokenAdmin as KnoxAuthTokenAdmin
from knox.models import AuthToken

from users.access import ADMIN_VIEWS
from users.models import Role, User
from users.selectors import user_search
from users.serializers import USER_FIELDS
from users.services import OWN_LOCKED_FIELDS, user_change_check, user_update
from wemoov.admin import CsvExportMixin, FastChangeListAdmin, confirm_then_apply
from wemoov.cache import USER_STATS, invalidate_key_on_commit
from wemoov.errors import InvalidInput, NotPermitted
from wemoov.exports import columns_for


@admin.register(User)
class UserAdmin(CsvExportMixin, FastChangeListAdmin, DjangoUserAdmin):
    export_columns = columns_for(User, USER_FIELDS)
    export_permission = ADMIN_VIEWS[("users.user", "export")]
    ordering = ["-created_at"]
    list_display = ["email", "first_name", "last_name", "role", "is_active", "created_at"]
    list_filter = ["role", "is_active", "created_at"]
    search_fields = ["email", "first_name", "last_name", "phone"]
    search_help_text = "An email or its start (ana@), a phone number or its start, or part of a name."
    readonly_fields = ["created_at", "last_login", "is_staff", "activity"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["first_name", "last_name", "phone"]}),
        ("Activity", {"fields": ["activity"]}),
        ("Access", {"fields": ["role", "is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "created_at"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "role", "password1", "password2"]}),
    ]
    filter_horizontal = ["groups", "user_permissions"]
    actions = ["deactivate_users", "activate_users"]

    # Shown to superusers only; read-only for everyone else.
    superuser_fields = ["is_superuser", "groups", "user_permissions"]

    @admin.display(description="bookings and payments")
    def activity(self, obj: User):
        if obj.pk is None:
            return "—"
        bookings = reverse("admin:bookings_booking_changelist")
        payments = reverse("admin:payments_payment_changelist")
        return format_html(
            '<a id="user-bookings" href="{}?user__id__exact={}">Bookings as a client</a> · '
            '<a id="user-payments" href="{}?user__id__exact={}">Payments</a>',
            bookings,
            obj.pk,
            payments,
            obj.pk,
        )

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += [name for name in self.superuser_fields if name not in fields]
        if obj is not None and obj.pk == request.user.pk:
            # What nobody changes on themselves (user_change_check) is not offered either.
            fields += [name for name in sorted(OWN_LOCKED_FIELDS) if name not in fields]
        return fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None and request.user.is_superuser:
            # A superuser gives a new staff member their groups as they create them.
            (name, options), *rest = fieldsets
            fieldsets = [(name, {**options, "fields": [*options["fields"], "groups"]}), *rest]
        return fieldsets

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (WhoMayChangeWhomForm, form), {"actor": request.user})

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        if obj is None:
            return True
        try:  # no change at all: may they change this user in the first place?
            user_change_check(actor=request.user, user=obj, changes={})
        except NotPermitted:
            return False
        return True

    def has_delete_permission(self, request, obj=None):
        # Deleting a user ends their activity: whoever may not deactivate them may not delete them
        # (the delete page and `delete_selected`, which asks this of every selected row).
        if not super().has_delete_permission(request, obj):
            return False
        return obj is None or _may_deactivate(request.user, obj)

    def get_search_results(self, request, queryset, search_term):
        return user_search(queryset, search_term), False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)  # User.save() revokes what it must
        invalidate_key_on_commit(USER_STATS, obj.pk)

    def _set_active(self, request, queryset, *, active: bool, title: str, done: str):
        return confirm_then_apply(
            self,
            request,
            queryset,
            title=title,
            done=done,
            apply=lambda user, values: user_update(user=user, actor=request.user, is_active=active),
        )

    @admin.action(description="Deactivate the selected users (their tokens are revoked)")
    def deactivate_users(self, request, queryset):
        return self._set_active(request, queryset, active=False, title="Deactivate users", done="deactivated")

    @admin.action(description="Activate the selected users")
    def activate_users(self, request, queryset):
        return self._set_active(request, queryset, active=True, title="Activate users", done="activated")


def _may_deactivate(actor: User, user: User) -> bool:
    try:
        user_change_check(actor=actor, user=user, changes={"is_active": False})
    except (InvalidInput, NotPermitted):
        return False
    return True


class WhoMayChangeWhomForm:
    """Mixed into the admin's user forms (change and add) by `UserAdmin.get_form`: the form asks
    `user_change_check` about the fields it would change. A refused field is a form error
    (nothing is saved); a change the form never offered (a read-only field forged into the
    POST) or one only a superuser may make answers 403."""

    actor: User

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        role = self.fields.get("role")
        if role is not None and not self.actor.is_superuser:
            role.choices = [choice for choice in role.choices if choice[0] != Role.ADMIN]

    def clean(self):
        cleaned = super().clean()
        changes = {name: cleaned.get(name) for name in self.changed_data}
        # A field the page shows read-only is absent from the form: sent anyway, it was forged.
        forged = (OWN_LOCKED_FIELDS - self.fields.keys()) & self.data.keys()
        changes |= {name: self.data.get(name) for name in forged}
        try:
            user_change_check(actor=self.actor, user=self.instance, changes=changes)
        except InvalidInput as exc:
            if forged:
                raise PermissionDenied(exc.message) from exc
            for name, messages in exc.errors.items():
                self.add_error(name if name in self.fields else None, messages)
        except NotPermitted as exc:
            raise PermissionDenied(exc.message) from exc
        return cleaned


class SuperuserWritesOnly:
    """Pages whose writes are a superuser's alone, whatever permissions a staff member holds:
    a group's permissions, or a token's user, would let whoever edits them become someone
    else (the contract: only a superuser grants permissions). Viewing follows the view
    permission as usual. No bulk actions: one group or token at a time, on its own page."""

    actions = None

    def has_add_permission(self, request, *args):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


class GroupAdmin(SuperuserWritesOnly, DjangoGroupAdmin):
    pass


class AuthTokenAdmin(SuperuserWritesOnly, KnoxAuthTokenAdmin):
    """Tokens are made by logging in: minting one here would show its raw value (another
    user's credential) to whoever made it, and changing its user would move a credential."""

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# django.contrib.auth and knox register their own pages first (they come before `users` in
# INSTALLED_APPS, so the admin's autodiscovery has imported their admin modules already).
for model, model_admin in ((Group, GroupAdmin), (AuthToken, AuthTokenAdmin)):
    admin.site.unregister(model)
    admin.site.register(model, model_admin)
