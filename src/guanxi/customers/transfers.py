"""What follows a customer to its new account manager (A5): other apps' records, through handlers they register.

customer_transfer() calls every handler inside its transaction, after the customers have moved, so a failing handler
rolls the whole transfer back. Other apps register in their AppConfig.ready(), so `customers` never imports them:

    from guanxi.customers.transfers import register_transfer_handler

    def move_open_deals(*, actor, previous_owners, to_user_id, to_unit_id) -> None:
        ...  # move the app's open records, audit each one

    register_transfer_handler(move_open_deals)

`previous_owners` maps each moved customer's id to its owner before the transfer (None for an unowned customer);
customers that already belonged to the new owner are not in it.
"""

from collections.abc import Callable

TransferHandler = Callable[..., None]
_handlers: list[TransferHandler] = []


def register_transfer_handler(handler: TransferHandler) -> TransferHandler:
    """Add a handler called as handler(actor=…, previous_owners=…, to_user_id=…, to_unit_id=…) in every transfer.
    Registering twice is harmless."""
    if handler not in _handlers:
        _handlers.append(handler)
    return handler


def unregister_transfer_handler(handler: TransferHandler) -> None:
    if handler in _handlers:
        _handlers.remove(handler)


def run_transfer_handlers(
    *, actor, previous_owners: dict[int, int | None], to_user_id: int, to_unit_id: int | None
) -> None:
    """Let every registered app move what follows the customers (called by customer_transfer, in its transaction)."""
    if not previous_owners:
        return
    for handler in list(_handlers):
        handler(actor=actor, previous_owners=previous_owners, to_user_id=to_user_id, to_unit_id=to_unit_id)
