"""One name per schema in /api/v1/openapi.json.

django-ninja builds the JSON schema of each operation's models separately and merges their definitions into
`components/schemas` by name, so two models with the same class name (customers' `CategoryOut` and the knowledge
base's, `Activity.Kind` and the ticket `Kind`, the calendar's `MoveIn` and the pipeline's) became one component: the
last one built, and every other operation using that name documented the wrong schema. Pydantic avoids such
collisions only within one generation. Here the first model to take a short name keeps it (the order of the routes,
so it is stable) and any other model with that name gets its app's name in front ("ActivitiesPreferenceOut"); if even
that is taken, pydantic's module-qualified name.
"""

import re
import threading
from typing import ClassVar

import ninja.openapi.schema
from ninja.schema import NinjaGenerateJsonSchema


def _strip_ids(core_ref: str) -> list[str]:
    return [part.rsplit(":", 1)[0] for part in re.split(r"([\][,])", core_ref)]


class UniqueNamesGenerateJsonSchema(NinjaGenerateJsonSchema):
    _owners: ClassVar[dict[str, str]] = {}  # component name → the module-qualified class that holds it
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def get_defs_ref(self, core_mode_ref):
        defs_ref = super().get_defs_ref(core_mode_ref)
        core_ref, _mode = core_mode_ref
        components = _strip_ids(core_ref)
        qualified = "".join(components)
        short = self.normalize_name("".join(re.sub(r"(?:[^.[\]]+\.)+([^.[\]]+)", r"\1", x) for x in components))
        parts = qualified.split(".")
        app = parts[1].title().replace("_", "") if len(parts) > 2 and parts[0] == "guanxi" else ""
        with self._lock:
            owner = self._owners.setdefault(short, qualified)
            prefixed = self.normalize_name(app + short) if app else ""
            if owner == qualified:
                return defs_ref
            choices = self._prioritized_defsref_choices[defs_ref]
            # the bare short name (and its -Input/-Output variants) belongs to another model
            rest = [choice for choice in choices if choice != short and not choice.startswith(short + "-")]
            if prefixed and self._owners.setdefault(prefixed, qualified) == qualified:
                rest.insert(0, prefixed)
            self._prioritized_defsref_choices[defs_ref] = rest
        return defs_ref


def install_unique_schema_names() -> None:
    """Make ninja's OpenAPI document use UniqueNamesGenerateJsonSchema (call before the document is first built)."""
    ninja.openapi.schema.NinjaGenerateJsonSchema = UniqueNamesGenerateJsonSchema
