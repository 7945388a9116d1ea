import pytest
from cryptography.exceptions import InvalidTag

from dajiuzhu.core import crypto


def test_encrypt_round_trip_and_random_nonce():
    a = crypto.encrypt("32040219800101123X", field="person.id_number")
    b = crypto.encrypt("32040219800101123X", field="person.id_number")
    assert a != b
    assert crypto.decrypt(a, field="person.id_number") == "32040219800101123X"
    assert b"3204021980" not in a


def test_a_ciphertext_cannot_move_to_another_field():
    blob = crypto.encrypt("13912345678", field="person.phone")
    with pytest.raises(InvalidTag):
        crypto.decrypt(blob, field="person.id_number")


def test_person_key_is_the_first_64_bits_of_the_blind_index():
    index = crypto.id_index("32040219800101123X")
    key = crypto.person_key("32040219800101123X")
    assert int.from_bytes(bytes.fromhex(index)[:8], "big") - 2**63 == key
    assert crypto.phone_index("13912345678") != crypto.id_index("13912345678")
