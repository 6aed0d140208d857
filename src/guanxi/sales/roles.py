"""What each role may do with this app's models (merged into the role groups by core.roles.sync_role_groups).

Record scope (which leads and deals a role sees) comes from core.roles.ROLE_SCOPES; this says what it may do.
"""

# --- pipeline: leads, deals, call lists (C1, C2, C7) ----------------------------------------------------------------
_PIPELINE_READ = [
    "sales.view_lead",
    "sales.view_opportunity",
    "sales.view_pipeline",
    "sales.view_stage",
    "sales.view_calllist",
]
# Account managers own leads and deals and work call lists.
_PIPELINE_WORK = _PIPELINE_READ + [
    "sales.add_lead",
    "sales.change_lead",
    "sales.add_opportunity",
    "sales.change_opportunity",
    "sales.add_calllist",
    "sales.change_calllist",
]
# Team leads and branch managers also hand leads out within their scope.
_PIPELINE_MANAGE = _PIPELINE_WORK + ["sales.assign_lead", "sales.delete_lead"]
# Service agents take leads from calls (the screen pop for an unknown number) and work call lists.
_PIPELINE_AGENT = _PIPELINE_READ + ["sales.add_lead", "sales.change_calllist"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "executive": [*_PIPELINE_READ],
    "branch_manager": [*_PIPELINE_MANAGE],
    "team_lead": [*_PIPELINE_MANAGE],
    "account_manager": [*_PIPELINE_WORK],
    "service_agent": [*_PIPELINE_AGENT],
    "analyst": [*_PIPELINE_READ],
}

# --- commerce: products, quotes, contracts, receivables (C3–C6) ----------------------------------------------------
_COMMERCE_READ = [
    "sales.view_product",
    "sales.view_pricelist",
    "sales.view_quote",
    "sales.view_contract",
    "sales.view_contracttemplate",
    "sales.view_instalment",
    "sales.view_payment",
]
# Account managers quote, contract and record collections for their customers.
_COMMERCE_WORK = _COMMERCE_READ + [
    "sales.add_quote",
    "sales.change_quote",
    "sales.add_contract",
    "sales.change_contract",
    "sales.add_payment",
]
# Team leads approve discounts above the account manager's limit; branch managers too, and keep the price lists.
_COMMERCE_LEAD = _COMMERCE_WORK + ["sales.approve_quote"]
_COMMERCE_BRANCH = _COMMERCE_LEAD + [
    "sales.add_product",
    "sales.change_product",
    "sales.add_pricelist",
    "sales.change_pricelist",
    "sales.add_contracttemplate",
    "sales.change_contracttemplate",
]
for _role, _perms in {
    "executive": _COMMERCE_READ,
    "branch_manager": _COMMERCE_BRANCH,
    "team_lead": _COMMERCE_LEAD,
    "account_manager": _COMMERCE_WORK,
    "service_agent": _COMMERCE_READ,
    "analyst": _COMMERCE_READ,
}.items():
    ROLE_PERMISSIONS.setdefault(_role, []).extend(_perms)
