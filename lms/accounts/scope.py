"""What a manager oversees — the one rule behind every manager-scoped listing and permission.

A manager grant names a locality subtree or an agency subtree. A locality scope covers a unit that
lies under it as recorded *or* through the 2025 reform (the unit's successor is a successor of a
unit in the subtree): a ward manager sees the communes merged into the ward, and a manager of an
old district the new wards that took over its communes. An agency scope covers its subtree.
Admins oversee everything. `Scope.of(user)` answers both ways: as a Python check on one object
(`covers_locality`, `covers_agency`, `covers_person`) for permissions, and as SQL conditions
(`locality_clause`, `agency_clause`, `people_clause`) for listings, so the two cannot drift apart.
"""

from dataclasses import dataclass

from sqlalchemy import false, or_, select, true

from lms.agencies.models import Agency
from lms.localities.models import Locality


@dataclass(frozen=True)
class Scope:
    everything: bool
    localities: tuple = ()
    agencies: tuple = ()

    @classmethod
    def of(cls, user) -> "Scope":
        """The scope of `user`'s manager grants (everything for an admin, nothing for an anonymous visitor)."""
        if user is None or not getattr(user, "is_authenticated", False):
            return cls(everything=False)
        if user.is_admin:
            return cls(everything=True)
        return cls.of_grants(user)

    @classmethod
    def of_grants(cls, user) -> "Scope":
        """Only what `user`'s manager grants name, even for an admin (a digest of what they manage)."""
        grants = [grant for grant in user.grants if grant.role == "manager"]
        return cls(everything=False,
                   localities=tuple(g.locality for g in grants if g.locality is not None),
                   agencies=tuple(g.agency for g in grants if g.agency is not None))

    @property
    def is_empty(self) -> bool:
        return not (self.everything or self.localities or self.agencies)

    # The Python checks, for one object (permissions).

    def covers_locality(self, locality: Locality | None) -> bool:
        return self.everything or any(scope.contains(locality) for scope in self.localities)

    def covers_agency(self, agency: Agency | None) -> bool:
        return self.everything or (agency is not None and any(scope.contains(agency) for scope in self.agencies))

    def covers_person(self, person) -> bool:
        """The person's locality or agency lies in the scope."""
        if self.everything:
            return True
        return person is not None and (self.covers_locality(person.locality) or self.covers_agency(person.agency))

    # The SQL conditions, for listings; each says in SQL exactly what the check above says.

    def locality_clause(self, unit=Locality):
        """`unit` (Locality or an alias of it) is covered by a locality scope."""
        if self.everything:
            return true()
        return or_(false(), *(scope.covers_clause(unit) for scope in self.localities))

    def agency_clause(self, agency=Agency):
        """`agency` (Agency or an alias of it) is covered by an agency scope."""
        if self.everything:
            return true()
        return or_(false(), *(agency.path.startswith(scope.path) for scope in self.agencies if scope.path))

    def people_clause(self, locality_id, agency_id):
        """People (or facts) whose `locality_id` or `agency_id` column lies in the scope."""
        if self.everything:
            return true()
        unit, agency = select(Locality.id).where(self.locality_clause(Locality)), select(Agency.id).where(
            self.agency_clause(Agency))
        return or_(false(), *([locality_id.in_(unit)] if self.localities else []),
                   *([agency_id.in_(agency)] if self.agencies else []))
