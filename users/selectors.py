"""Reads on users: the staff search, through indexes."""

from __future__ import annotations

import re

from django.db.models import Q, QuerySet

from users.models import User

PHONE_LIKE = re.compile(r"^\+?[\d\s().-]{3,}$")


def user_search_q(term: str) -> Q:
    """What staff mean by a search term, as a filter each of whose branches an index serves:
    * an email or its start (`ana@`, `ana.diop@exa`): `email LIKE 'term%'` through
      user_email_prefix_idx (emails are stored lower-cased);
    * a phone number or its start (`+221 77`): `phone LIKE 'term%'` through
      user_phone_prefix_idx;
    * anything else, a name or part of one: first or last name containing it, served on
      PostgreSQL by the trigram indexes user_first_name_trgm_idx and user_last_name_trgm_idx
      (case-insensitive `icontains` is `UPPER(col) LIKE UPPER('%term%')`, which is what
      those expression indexes hold), plus the email prefix."""
    term = term.strip()
    if "@" in term:
        return Q(email__startswith=term.lower())
    if PHONE_LIKE.match(term):
        return Q(phone__startswith=term)
    return Q(email__startswith=term.lower()) | Q(first_name__icontains=term) | Q(last_name__icontains=term)


def user_search(queryset: QuerySet[User], term: str) -> QuerySet[User]:
    return queryset.filter(user_search_q(term)) if term.strip() else queryset


def user_ids_matching(term: str) -> QuerySet:
    """The ids of the users a search term means (a subquery for bookings and payments, which
    then use their `user_id` indexes)."""
    return User.objects.filter(user_search_q(term)).values("pk")
