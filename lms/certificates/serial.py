"""Certificate serials: 11 random Crockford base-32 symbols and a Luhn mod-32 check symbol.

55 random bits make serials unguessable; the check symbol catches every single mistyped
character and most swaps of neighbours, so a typo is told apart from a forged serial.
Shown as XXXX-XXXX-XXXX; input is forgiving (case, dashes, spaces, O→0, I/L→1).
"""

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
_VALUE = {symbol: index for index, symbol in enumerate(ALPHABET)}
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})
BODY_LENGTH = 11


def _check_symbol(body: str) -> str:
    """Luhn mod N (N = 32) over the body."""
    total, factor = 0, 2
    for symbol in reversed(body):
        addend = factor * _VALUE[symbol]
        total += addend // 32 + addend % 32
        factor = 1 if factor == 2 else 2
    return ALPHABET[(32 - total % 32) % 32]


def new_serial() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return body + _check_symbol(body)


def normalise(text: str) -> str:
    return "".join(ch for ch in (text or "").upper() if ch.isalnum()).translate(_CONFUSABLE)


def is_well_formed(serial: str) -> bool:
    """Right length, right alphabet and the check symbol agrees."""
    return (len(serial) == BODY_LENGTH + 1 and all(ch in _VALUE for ch in serial)
            and _check_symbol(serial[:-1]) == serial[-1])


def display(serial: str) -> str:
    return "-".join(serial[i:i + 4] for i in range(0, len(serial), 4))
