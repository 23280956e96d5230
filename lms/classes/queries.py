from sqlalchemy import select

from lms.accounts.scope import Scope
from lms.classes.models import ClassMember, TrainingClass
from lms.core.permissions import can
from lms.extensions import db
from lms.localities.models import Locality


def classes_for(user) -> dict:
    """{"teaching", "attending", "in_scope"} lists for the classes page."""
    teaching = select(TrainingClass).order_by(TrainingClass.id.desc())
    if not can("administer", user):
        teaching = teaching.where(TrainingClass.trainer_id == user.id)
    result = {
        "teaching": list(db.session.scalars(teaching.limit(200))) if can("teach", user) else [],
        "attending": list(db.session.scalars(select(TrainingClass).join(ClassMember).where(ClassMember.user_id == user.id)
                                             .order_by(TrainingClass.id.desc()))),
        "in_scope": [],
    }
    scope = Scope.of(user)
    if scope.localities:  # an admin sees every class under "teaching"
        result["in_scope"] = list(db.session.scalars(
            select(TrainingClass).join(Locality, TrainingClass.locality_id == Locality.id)
            .where(scope.locality_clause(Locality))
            .order_by(TrainingClass.id.desc()).limit(200)))
    return result
