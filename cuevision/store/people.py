"""Users, studies, memberships and tokens: the operations the admin CLI and the API share.

Passwords are hashed with argon2id (argon2-cffi). A bearer token is 32 random bytes shown once;
only its SHA-256 is stored (a token is high-entropy, so a fast hash is enough and lookup is one
indexed equality), so a copy of the database grants nothing.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as Db

from cuevision.errors import CuevisionError
from cuevision.store.audit import record
from cuevision.store.models import ApiToken, Membership, Role, Secret, Study, User, utcnow

TOKEN_PREFIX = "cv_"
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    if len(password) < 10:
        raise CuevisionError("a password needs at least 10 characters; choose a longer one")
    return _hasher.hash(password)


def check_password(user: User | None, password: str) -> bool:
    """True for the right password; a missing user costs the same time as a wrong password."""
    try:
        _hasher.verify(user.password_hash if user else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return False
    return user is not None


_DUMMY = _hasher.hash(secrets.token_hex(16))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_user(db: Db, email: str, password: str, *, admin: bool = False) -> User:
    email = email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise CuevisionError(f"{email!r} is not an e-mail address; give one like name@clinic.org")
    if db.scalar(select(User).where(User.email == email)):
        raise CuevisionError(f"a user {email} exists already")
    user = User(email=email, password_hash=hash_password(password), is_admin=admin)
    db.add(user)
    db.flush()
    record(db, None, "user.create", detail={"user": user.id, "admin": admin})
    return user


def user_by_email(db: Db, email: str) -> User:
    user = db.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise CuevisionError(f"no user {email}; create it with `cuevision admin create-user`")
    return user


def create_study(db: Db, name: str) -> Study:
    name = name.strip()
    if not name or len(name) > 200 or not name.isprintable():
        raise CuevisionError(f"{name!r} is no study name; use 1-200 printable characters")
    if db.scalar(select(Study).where(Study.name == name)):
        raise CuevisionError(f"a study named {name!r} exists already")
    study = Study(name=name)
    db.add(study)
    db.flush()
    record(db, None, "study.create", study_id=study.id, detail={"name": name})
    return study


def study_by_name(db: Db, name: str) -> Study:
    study = db.scalar(select(Study).where(Study.name == name))
    if study is None:
        raise CuevisionError(f"no study {name!r}; create it with `cuevision admin create-study`")
    return study


def add_member(db: Db, study: Study, user: User, role: Role, by: int | None = None) -> Membership:
    """Give ``user`` ``role`` in ``study`` (replacing an earlier role)."""
    member = db.get(Membership, (study.id, user.id))
    if member is None:
        member = Membership(study_id=study.id, user_id=user.id, role=role.value)
        db.add(member)
    member.role = role.value
    try:
        db.flush()
    except IntegrityError:
        raise CuevisionError("no such user or study") from None
    record(db, by, "member.set", study_id=study.id, detail={"user": user.id, "role": role.value})
    return member


def create_token(db: Db, user: User, name: str = "cli") -> str:
    """A new bearer token for ``user``; the only time its text exists outside the caller."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name[:100], token_hash=token_hash(token))
    db.add(row)
    db.flush()
    record(db, user.id, "token.create", detail={"token": row.id, "name": row.name})
    return token


def revoke_token(db: Db, token_id: int, by: int | None = None) -> None:
    row = db.get(ApiToken, token_id)
    if row is None:
        raise CuevisionError(f"no token {token_id}; `cuevision admin create-token` lists ids")
    row.revoked_at = utcnow()
    record(db, by, "token.revoke", detail={"token": token_id, "user": row.user_id})


def user_for_token(db: Db, token: str) -> User | None:
    """The user a live token belongs to; None for unknown, revoked or malformed ones."""
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
    if row is None or row.revoked_at is not None:
        return None
    return db.get(User, row.user_id)


def role_in(db: Db, user: User, study_id: int) -> Role | None:
    member = db.get(Membership, (study_id, user.id))
    return Role(member.role) if member else None


def service_secret(db: Db, purpose: str) -> bytes:
    """A 32-byte key per purpose, made once and kept in the database (no loose file to empty)."""
    row = db.get(Secret, purpose)
    if row is None:
        db.add(Secret(purpose=purpose, value=secrets.token_hex(32)))
        try:
            db.commit()
        except IntegrityError:  # another process made it first: use theirs
            db.rollback()
        row = db.get(Secret, purpose)
    assert row is not None
    if len(row.value) < 64:
        raise CuevisionError(f"the {purpose} secret in the database is too short; delete its row")
    return bytes.fromhex(row.value)
