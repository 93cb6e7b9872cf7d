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
give 0.00 + 0.83). When a rate's exact VAT is half a cent, either neighbour is exact to
the cent (`vat_choices`): the half-up one is tried first. A share Sage cannot carry at
all (0.10 at 5.5 %: 0.09 net has no VAT, 0.10 net has 0.01) moves a cent to another rate.

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


def vat_choices(gross: Decimal, rate: Decimal) -> list[Decimal]:
    """The VAT amounts exact to the cent for `gross` at `rate` %: the half-up rounding, and
    the cent below too when the exact share is half a cent (both are as near)."""
    exact = gross * rate / (HUNDRED + rate)
    rounded = round_cents(exact)
    if rounded - exact == CENT / 2:
        return [rounded, rounded - CENT]
    return [rounded]


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


def _room_left(pieces: list[Piece], room: Room, used: dict[int, Decimal]) -> Decimal:
    taken = sum((p.quantity for p in pieces if p.index == room.index), ZERO)
    return room.available - used.get(room.index, ZERO) - taken


def _split_for_cent(
    pieces: list[Piece], rooms: dict[int, Room], direction: int, used: dict[int, Decimal]
) -> bool:
    """Split one piece in two so that the rate's rounded VAT moves by `direction` (±1 cent),
    never taking more of its line than is left."""
    for n, piece in enumerate(pieces):
        room = rooms[piece.index]
        cap = _room_left(pieces, room, used) + piece.quantity
        cents = int(piece.net / CENT)
        for small in range(1, min(cents, _SPLIT_SEARCH)):
            a = small * CENT
            b = piece.net - a
            vat_a = round_cents(a * room.rate / HUNDRED)
            vat_b = round_cents(b * room.rate / HUNDRED)
            if int((vat_a + vat_b - piece.vat) / CENT) != direction:
                continue
            qa, qb = quantity_for(room, a), quantity_for(room, b)
            if qa is None or qb is None or qa + qb > cap:
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
    """Pieces of `rooms` (one rate) worth exactly `net` and `vat`: the net pro rata over
    the lines, else all of it on one line, each rounding fixed by `_split_for_cent`.

    Raises:
        NotExpressible: no such pieces.
    """
    lefts = [r.amounts(r.available - used.get(r.index, ZERO))[0] for r in rooms]
    spreads = [allocate(net, lefts)]
    spreads += [
        [net if k == n else ZERO for k in range(len(rooms))]
        for n, left in enumerate(lefts)
        if left >= net and len(rooms) > 1
    ]
    failure: NotExpressible | None = None
    for nets in spreads:
        try:
            return _fix_vat(rooms, nets, vat, used)
        except NotExpressible as exc:
            failure = failure or exc
    assert failure is not None
    raise failure


def _fix_vat(
    rooms: list[Room], nets: list[Decimal], vat: Decimal, used: dict[int, Decimal]
) -> list[Piece]:
    pieces = [
        _piece(room, part, used.get(room.index, ZERO))
        for room, part in zip(rooms, nets, strict=True)
        if part > 0
    ]
    by_index = {r.index: r for r in rooms}
    for _ in range(8):
        missing = int((vat - sum((p.vat for p in pieces), ZERO)) / CENT)
        over = any(_room_left(pieces, r, used) < 0 for r in rooms)
        if missing == 0 and not over:
            return pieces
        if over or not _split_for_cent(pieces, by_index, 1 if missing > 0 else -1, used):
            break
    net = sum(nets, ZERO)
    raise NotExpressible(
        f"Sage rounds the VAT of each line: {net} net at {rooms[0].rate} % cannot carry {vat} VAT"
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
    failure: NotExpressible | None = None
    for attempt in _nudged(shares, [left_gross[r] for r in rates]):
        try:
            return [
                piece
                for rate, share in zip(rates, attempt, strict=True)
                if share
                for piece in _rate_share(by_rate[rate], lefts[rate], share, left_gross[rate], used)
            ]
        except NotExpressible as exc:
            failure = failure or exc
    assert failure is not None
    raise failure


def _nudged(shares: list[Decimal], lefts: list[Decimal]) -> list[list[Decimal]]:
    """`shares`, then the same with a cent moved between two rates (the pro rata split is
    exact to the cent either way), for when Sage's rounding cannot carry a rate's share."""
    found = [shares]
    for step in (CENT, -CENT):
        for i in range(len(shares)):
            for j in range(len(shares)):
                moved = list(shares)
                moved[i] += step
                moved[j] -= step
                if i != j and all(ZERO <= m <= cap for m, cap in zip(moved, lefts, strict=True)):
                    found.append(moved)
    return found


def _rate_share(
    rooms: list[Room],
    lefts: list[tuple[Decimal, Decimal]],
    share: Decimal,
    left_gross: Decimal,
    used: dict[int, Decimal],
) -> list[Piece]:
    """Pieces of one rate's `rooms` worth exactly `share`, its VAT exact to the cent."""
    if share == left_gross:  # all of this rate: the invoice's own split
        choices = [sum((v for _, v in lefts), ZERO)]
    else:
        choices = vat_choices(share, rooms[0].rate)
    return _first_exact(rooms, share, choices, used)


def _first_exact(
    rooms: list[Room], share: Decimal, choices: list[Decimal], used: dict[int, Decimal]
) -> list[Piece]:
    """Pieces for the first VAT of `choices` that Sage's rounding can carry.

    Raises:
        NotExpressible: none can.
    """
    failure: NotExpressible | None = None
    for vat in choices:
        try:
            return _credit_rate(rooms, share - vat, vat, used)
        except NotExpressible as exc:
            failure = failure or exc
    assert failure is not None
    raise failure
