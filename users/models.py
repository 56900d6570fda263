from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from users.credentials import credentials_changed
from wemoov import geo


class Role(models.TextChoices):
    CLIENT = "client", "Client"
    DRIVER = "driver", "Driver"
    ADMIN = "admin", "Admin"


class UserManager(BaseUserManager):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        # Emails are unique regardless of case: store them lower-cased.
        return (email or "").strip().lower()

    def get_by_natural_key(self, username):
        return self.get(email=self.normalize_email(username))

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("An email address is required.")
        role = fields.setdefault("role", Role.CLIENT)
        fields["is_staff"] = role == Role.ADMIN
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields["role"] = Role.ADMIN
        fields["is_superuser"] = True
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CLIENT)
    is_active = models.BooleanField(default=True)
    # Staff status follows the role (a database constraint keeps them together).
    is_staff = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["-created_at"]
        # Staff permissions beyond Django's four (the contract's "Staff permissions").
        permissions = [
            ("deactivate_user", "Can deactivate and reactivate users"),
            ("export_user", "Can export users as CSV"),
        ]
        indexes = [
            # The seed's `role` index is the leading column of this one, so it is not
            # created separately: (role, is_active) serves `role = ?` and the dashboard's
            # per-role active counts alike.
            models.Index(fields=["role", "is_active"], name="user_role_active_idx"),
            models.Index(fields=["is_active"], name="user_is_active_idx"),
            models.Index(fields=["created_at"], name="user_created_at_idx"),
            # Staff search (users.selectors.user_search_q): `email LIKE 'ana@%'` and
            # `phone LIKE '+22177%'`. The pattern operator class lets PostgreSQL use a
            # b-tree for a prefix whatever the database's collation (SQLite ignores it).
            models.Index(fields=["email"], opclasses=["varchar_pattern_ops"], name="user_email_prefix_idx"),
            models.Index(fields=["phone"], opclasses=["varchar_pattern_ops"], name="user_phone_prefix_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(email=Lower("email")), name="user_email_lowercase"),
            models.CheckConstraint(
                condition=Q(role=Role.ADMIN, is_staff=True) | (~Q(role=Role.ADMIN) & Q(is_staff=False)),
                name="user_staff_iff_admin",
            ),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="user_role_valid"),
        ]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs):
        self.email = UserManager.normalize_email(self.email)
        self.is_staff = self.role == Role.ADMIN
        existing = not self._state.adding
        password_set = self._password is not None  # set_password() since the last save
        update_fields = kwargs.get("update_fields")
        # One transaction with the revocation (no savepoint of its own inside a caller's).
        with transaction.atomic(using=kwargs.get("using"), savepoint=False):
            super().save(*args, **kwargs)
            if existing and not (update_fields is not None and set(update_fields) <= {"last_login"}):
                self.revoke_credentials(delete_tokens=password_set or not self.is_active)
                if not self.is_active or self.role != Role.DRIVER:
                    # A deactivated user, or one who is no driver, is out of dispatch at once.
                    geo.forget_on_commit(self.pk)

    def revoke_credentials(self, *, delete_tokens: bool) -> None:
        """Every path that changes a user ends here (see `users.credentials`): the cached
        token lookups are dropped for every process once the transaction commits, and a
        deactivated user's or a new password's tokens are deleted from the database."""
        tokens = self.auth_token_set.all()
        digests = list(tokens.values_list("digest", flat=True))
        if delete_tokens and digests:
            tokens.delete()
        credentials_changed(user_id=self.pk, digests=digests)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()
