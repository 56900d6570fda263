from __future__ import annotations

from django.contrib.auth import authenticate
from rest_framework import serializers

from users.models import Role, User
from wemoov.fields import StrictBooleanField, StrictCharField

USER_FIELDS = ["id", "email", "first_name", "last_name", "phone", "role", "is_active", "created_at"]


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = USER_FIELDS
        read_only_fields = USER_FIELDS


class UserStatsSerializer(serializers.Serializer):
    """Per-user figures; `driven`, `completed_driven` and `total_earned` for drivers only."""

    bookings = serializers.IntegerField()
    completed_bookings = serializers.IntegerField()
    total_spent = serializers.DecimalField(max_digits=14, decimal_places=2)
    driven = serializers.IntegerField(required=False)
    completed_driven = serializers.IntegerField(required=False)
    total_earned = serializers.DecimalField(max_digits=14, decimal_places=2, required=False)


class MeSerializer(UserSerializer):
    stats = UserStatsSerializer(read_only=True)

    class Meta(UserSerializer.Meta):
        fields = [*USER_FIELDS, "stats"]
        read_only_fields = fields


class MeUpdateSerializer(serializers.Serializer):
    """What a user may change on themselves; other keys are ignored."""

    first_name = StrictCharField(max_length=150, required=False, allow_blank=True)
    last_name = StrictCharField(max_length=150, required=False, allow_blank=True)
    phone = StrictCharField(max_length=32, required=False, allow_blank=True)


class AdminUserUpdateSerializer(MeUpdateSerializer):
    """What staff change on a user. A role, staff or superuser status, groups and permissions
    are not changed through the API (a superuser changes them in the admin): a body carrying
    any of them is answered 400 on those keys, rather than 200 as if it had been done."""

    # The admin's forms and this API ask the same rule, users.services.user_change_check
    # (through user_update); access keys are refused here because the API has no door to them.
    is_active = StrictBooleanField(required=False)

    ACCESS_KEYS = ("role", "is_staff", "is_superuser", "groups", "user_permissions")
    ACCESS_REFUSED = "Not changed through the API: a superuser changes access in the admin."

    def validate(self, attrs):
        asked = [key for key in self.ACCESS_KEYS if key in self.initial_data]
        if asked:
            raise serializers.ValidationError({key: [self.ACCESS_REFUSED] for key in asked})
        return attrs


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = StrictCharField(write_only=True, max_length=128, style={"input_type": "password"})
    first_name = StrictCharField(max_length=150)
    last_name = StrictCharField(max_length=150)
    phone = StrictCharField(max_length=32, required=False, allow_blank=True, default="")
    # Nobody becomes admin through the API: "admin" is not a choice (400).
    role = serializers.ChoiceField(choices=[Role.CLIENT, Role.DRIVER], default=Role.CLIENT)
    license_number = StrictCharField(max_length=64, required=False, allow_blank=False)


# The two shapes of a registration, for the schema only (RegisterSerializer validates): the
# request body is one or the other, so the generated client refuses a driver without a
# licence at compile time.
class ClientRegisterSerializer(RegisterSerializer):
    role = serializers.ChoiceField(choices=[Role.CLIENT], default=Role.CLIENT)
    license_number = None


class DriverRegisterSerializer(RegisterSerializer):
    role = serializers.ChoiceField(choices=[Role.DRIVER])
    license_number = StrictCharField(max_length=64, allow_blank=False)


class LoginSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = StrictCharField(max_length=128, write_only=True, style={"input_type": "password"})

    def validate(self, attrs):
        user = authenticate(self.context.get("request"), email=attrs["email"], password=attrs["password"])
        if user is None:  # wrong email, wrong password and inactive all look the same
            raise serializers.ValidationError("Unable to log in with the provided credentials.", code="authorization")
        attrs["user"] = user
        return attrs


class TokenSerializer(serializers.Serializer):
    token = StrictCharField()
    expiry = serializers.DateTimeField()
