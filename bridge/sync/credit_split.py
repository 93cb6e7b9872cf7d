"""Crediting an amount on an invoice's lines, exact to the cent per VAT rate (pure, no I/O).

A rebate after invoicing is booked the way an accountant books it: the amount is split
over the invoice's VAT rates in proportion to what is left to credit at each rate (its
VAT bases), each rate's share is split into net and VAT (`vat_share`), and each rate's net
over that rate's lines in proportion to what is left on them. Each part is then a
fractional quantity of its invoice line (`generateCreditNote` credits products by
quantity at the invoice's prices), found so that Sage's own arithmetic
(`bridge.money.sage_line_amounts`: net rounded to the cent, VAT on the rounded net) gives
exactly that net. Sage rounds the VAT of each credit-note line, so a rate's rounded VATs
can miss its VAT share by a cent: a part is then split in two lines of the same invoice
line whose two roundings give the missing cent (20 % of 4.18 is 0.84, but 0.02 + 4.16
give 0.00 + 0.83).

`NotExpressible` is raised when no quantity of 6 decimals gives a part's net, or a cent
cannot be found: nothing is credited then.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from bridge.money import CENT, HUNDRED, ZERO, round_cents, sage_line_amounts

QUANTITY_QUANTUM = Decimal("0.000001")
_NEAR = 3  # quantities tried either side of the nearest one
_SPLIT_SEARCH = 500  # cents tried when splitting a part to find a VAT cent


class NotExpressible(ValueError):
    """The amount cannot be credited exactly with the invoice's lines (message says why)."""


@dataclass(frozen=True)
class Room:
    """One invoice line that can be credited: Sage's prices and what is left on it."""

    index: int
    unit_price: Decimal
    discount: Decimal
    rate: Decimal
    available: Decimal

    def amounts(self, quantity: Decimal) -> tuple[Decimal, Decimal]:
        """(net, VAT) Sage computes for crediting `quantity` of this line."""
        return sage_line_amounts(quantity, self.unit_price, self.discount, self.rate)

    def left(self) -> tuple[Decimal, Decimal]:
        """(net, VAT) of everything still available on this line."""
        return self.amounts(self.available)


@dataclass(frozen=True)
class Piece:
    """One credit-note line: `quantity` of invoice line `index`, worth `net` + `vat`."""

    index: int
    quantity: Decimal
    net: Decimal
    vat: Decimal
    rate: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.vat


def allocate(amount: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """`amount` (cents) split in proportion to `weights`, largest remainder first, so the
    parts add up to `amount` exactly. All weights zero: everything on the first."""
    if not weights:
        return []
    total = sum(weights, ZERO)
    if total == 0:
        return [amount, *([ZERO] * (len(weights) - 1))]
    exact = [amount * w / total for w in weights]
    parts = [e.quantize(CENT, ROUND_DOWN) for e in exact]
    left = int((amount - sum(parts, ZERO)) / CENT)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[:left]:
        parts[i] += CENT
    return parts


def vat_share(gross: Decimal, rate: Decimal) -> Decimal:
    """The VAT inside a VAT-inclusive `gross` at `rate` %, rounded to the cent half-up."""
    return round_cents(gross * rate / (HUNDRED + rate))


def quantity_for(room: Room, net: Decimal) -> Decimal | None:
    """A quantity of at most 6 decimals of `room` whose Sage net is `net`, or None."""
    unit_net = room.unit_price * (HUNDRED - room.discount) / HUNDRED
    if unit_net <= 0 or net <= 0:
        return None
    nearest = (net / unit_net).quantize(QUANTITY_QUANTUM, ROUND_HALF_UP)
    for step in sorted(range(-_NEAR, _NEAR + 1), key=abs):
        quantity = nearest + step * QUANTITY_QUANTUM
        if quantity > 0 and room.amounts(quantity)[0] == net:
            return quantity.normalize()
    return None


def _piece(room: Room, net: Decimal, used: Decimal) -> Piece:
    left_net = room.amounts(room.available - used)[0]
    if net == left_net:
        quantity = room.available - used  # all of what is left: no fraction needed
    else:
        found = quantity_for(room, net)
        if found is None:
            raise NotExpressible(
                f"no quantity of line {room.index + 1} ({room.unit_price} per unit) "
                f"gives a net of {net}"
            )
        quantity = found
    net_got, vat = room.amounts(quantity)
    return Piece(room.index, quantity, net_got, vat, room.rate)


def _split_for_cent(pieces: list[Piece], rooms: dict[int, Room], direction: int) -> bool:
    """Split one piece in two so that the rate's rounded VAT moves by `direction` (±1 cent)."""
    for n, piece in enumerate(pieces):
        room = rooms[piece.index]
        cents = int(piece.net / CENT)
        for small in range(1, min(cents, _SPLIT_SEARCH)):
            a = small * CENT
            b = piece.net - a
            vat_a = round_cents(a * room.rate / HUNDRED)
            vat_b = round_cents(b * room.rate / HUNDRED)
            if int((vat_a + vat_b - piece.vat) / CENT) != direction:
                continue
            qa, qb = quantity_for(room, a), quantity_for(room, b)
            if qa is None or qb is None:
                continue
            pieces[n : n + 1] = [
                Piece(room.index, qa, a, vat_a, room.rate),
                Piece(room.index, qb, b, vat_b, room.rate),
            ]
            return True
    return False


def _credit_rate(
    rooms: list[Room], net: Decimal, vat: Decimal, used: dict[int, Decimal]
) -> list[Piece]:
    """Pieces of `rooms` (one rate) worth exactly `net` and `vat`."""
    weights = [r.amounts(r.available - used.get(r.index, ZERO))[0] for r in rooms]
    nets = allocate(net, weights)
    pieces = [
        _piece(room, part, used.get(room.index, ZERO))
        for room, part in zip(rooms, nets, strict=True)
        if part > 0
    ]
    by_index = {r.index: r for r in rooms}
    for _ in range(8):
        missing = int((vat - sum((p.vat for p in pieces), ZERO)) / CENT)
        if missing == 0:
            return pieces
        if not _split_for_cent(pieces, by_index, 1 if missing > 0 else -1):
            break
    rate = rooms[0].rate
    raise NotExpressible(
        f"Sage rounds the VAT of each line: {net} net at {rate} % cannot carry {vat} VAT"
    )


def credit_amount(
    rooms: Iterable[Room], gross: Decimal, used: dict[int, Decimal] | None = None
) -> list[Piece]:
    """Pieces crediting exactly `gross` (VAT included) over `rooms`, pro rata per VAT rate.

    `used` is what earlier pieces of the same credit note take of each line already.

    Raises:
        NotExpressible: more than is left to credit, or no exact split (module docstring).
    """
    used = dict(used or {})
    by_rate: dict[Decimal, list[Room]] = {}
    for room in rooms:
        if room.available - used.get(room.index, ZERO) > 0:
            by_rate.setdefault(room.rate, []).append(room)
    lefts = {
        rate: [r.amounts(r.available - used.get(r.index, ZERO)) for r in group]
        for rate, group in by_rate.items()
    }
    left_gross = {rate: sum((n + v for n, v in amounts), ZERO) for rate, amounts in lefts.items()}
    total_left = sum(left_gross.values(), ZERO)
    if gross > total_left:
        raise NotExpressible(f"{gross} is more than the {total_left} left to credit")
    rates = sorted(by_rate)
    shares = allocate(gross, [left_gross[r] for r in rates])
    pieces: list[Piece] = []
    for rate, share in zip(rates, shares, strict=True):
        if share == 0:
            continue
        if share == left_gross[rate]:  # all of this rate: the invoice's own split
            vat = sum((v for _, v in lefts[rate]), ZERO)
        else:
            vat = vat_share(share, rate)
        pieces += _credit_rate(by_rate[rate], share - vat, vat, used)
    return pieces
