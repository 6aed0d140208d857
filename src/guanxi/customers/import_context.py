"""What an import needs to know once, not once per row: categories, regions, owners in scope, branch codes, and the
visible customers its identifiers find (looked up in chunks, not per row)."""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from guanxi.core.models import OrgUnit
from guanxi.core.roles import ACCOUNT_MANAGER, user_roles
from guanxi.core.selectors import org_unit_of, users_in_scope
from guanxi.customers import selectors
from guanxi.customers.models import Category, Customer, Region
from guanxi.imports.values import BadValue, word

_PATH_SEPARATORS = ("/", ">", "＞", "／", "\\")


@dataclass
class TreeLookup:
    """Find a node of a category or region tree by code, by name (either language) or by a path of names."""

    by_code: dict[str, int] = field(default_factory=dict)
    by_name: dict[str, set[int]] = field(default_factory=dict)
    parent: dict[int, int | None] = field(default_factory=dict)

    @classmethod
    def of(cls, nodes) -> "TreeLookup":
        lookup = cls()
        for node in nodes:
            lookup.by_code[word(node.code)] = node.pk
            lookup.parent[node.pk] = node.parent_id
            for name in {word(node.name), word(node.name_en)} - {""}:
                lookup.by_name.setdefault(name, set()).add(node.pk)
        return lookup

    def find(self, value, *, ambiguous: str, missing: str) -> int:
        folded = word(value)
        if folded in self.by_code:
            return self.by_code[folded]
        parts = [folded]
        for separator in _PATH_SEPARATORS:
            if separator in folded:
                parts = [part for part in folded.split(separator) if part]
                break
        candidates = self.by_name.get(parts[-1], set())
        if len(parts) > 1:  # 黑龙江省/齐齐哈尔市/龙沙区: the last name, below nodes with the earlier names
            candidates = {pk for pk in candidates if self._below(pk, parts[:-1])}
        if len(candidates) == 1:
            return next(iter(candidates))
        raise BadValue(ambiguous if candidates else missing)

    def _below(self, pk: int, names: list[str]) -> bool:
        ancestors = set()
        current = self.parent.get(pk)
        while current is not None:
            ancestors.add(current)
            current = self.parent.get(current)
        return all(self.by_name.get(name, set()) & ancestors for name in names)


class ImportContext:
    """Everything about the actor and the reference data that the rows are checked against."""

    def __init__(self, actor):
        self.actor = actor
        self.categories = TreeLookup.of(Category.objects.only("id", "code", "name", "name_en", "parent_id"))
        self.regions = TreeLookup.of(Region.objects.only("id", "code", "name", "name_en", "parent_id"))
        self.owners_by_login: dict[str, int] = {}
        self.owners_by_name: dict[str, set[int]] = {}
        self.owner_units: dict[int, int | None] = {}
        for user in users_in_scope(user=actor):
            self.owners_by_login[word(user.username)] = user.pk
            full_name = word(user.get_full_name())
            if full_name:
                self.owners_by_name.setdefault(full_name, set()).add(user.pk)
            profile = getattr(user, "profile", None)
            self.owner_units[user.pk] = profile.org_unit_id if profile else None
        actor_unit = org_unit_of(actor)
        self.actor_unit_id = actor_unit.pk if actor_unit else None
        # Same default as customer_create: an account manager who imports owns what they import.
        self.default_owner_id = actor.pk if ACCOUNT_MANAGER in user_roles(actor) else None
        self._units = {unit.pk: unit for unit in OrgUnit.objects.only("id", "code", "kind", "path")}

    def category(self, value) -> int:
        return self.categories.find(
            value, ambiguous=_("Several categories have this name; use the code."), missing=_("No such category.")
        )

    def region(self, value) -> int:
        return self.regions.find(
            value,
            ambiguous=_("Several regions have this name; use the code or a path such as 省/市/区."),
            missing=_("No such region."),
        )

    def owner(self, value) -> int:
        folded = word(value)
        if folded in self.owners_by_login:
            return self.owners_by_login[folded]
        matches = self.owners_by_name.get(folded, set())
        if len(matches) == 1:
            return next(iter(matches))
        if matches:
            raise BadValue(_("Several users have this name; use the user name."))
        raise BadValue(_("No such user in your scope."))

    def unit_for(self, owner_id: int | None) -> int | None:
        """As in customer_create: the owner's unit, or the unit of whoever imports."""
        unit_id = self.owner_units.get(owner_id) if owner_id else None
        return unit_id or self.actor_unit_id

    def branch_code(self, unit_id: int | None) -> str:
        """The numbering series of a unit, as next_customer_number picks it: its branch, else itself, else 00."""
        unit = self._units.get(unit_id) if unit_id else None
        if unit is None:
            return "00"
        for ancestor_id in unit.ancestor_ids():
            ancestor = self._units.get(ancestor_id)
            if ancestor is not None and ancestor.kind == OrgUnit.Kind.BRANCH:
                return ancestor.code
        return unit.code


CHUNK = 500  # values per IN (…): well under SQLite's variable limit


def chunks(values):
    values = list(values)
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def visible_customers(actor, identities: list[tuple[str, str]]) -> dict[tuple[str, str], Customer | str]:
    """Visible customers by identifier; for a name shared by several customers, the message saying so."""
    visible = selectors.customer_queryset(user=actor)
    found: dict[tuple[str, str], Customer | str] = {}
    wanted: dict[str, set[str]] = {}
    for kind, value in identities:
        wanted.setdefault(kind, set()).add(value)
    survivors: dict[tuple[str, str], int] = {}
    for values in chunks(wanted.get("number", ())):
        for customer in visible.filter(number__in=values):
            if customer.merged_into_id:  # a merged customer's number leads to the survivor
                survivors[("number", customer.number)] = customer.merged_into_id
            else:
                found[("number", customer.number)] = customer
    if survivors:
        alive = visible.in_bulk(set(survivors.values()))
        found.update({key: alive[pk] for key, pk in survivors.items() if pk in alive})
    live = visible.filter(merged_into__isnull=True)
    for key in ("credit_code", "id_number"):
        for values in chunks(wanted.get(key, ())):
            found.update({(key, getattr(c, key)): c for c in live.filter(**{f"{key}__in": values})})
    for values in chunks(wanted.get("name", ())):
        for customer in live.filter(name_key__in=values).order_by("id"):
            key = ("name", customer.name_key)
            if key in found:
                found[key] = _("Several customers have this name; add a credit code or a customer number.")
            else:
                found[key] = customer
    return found
