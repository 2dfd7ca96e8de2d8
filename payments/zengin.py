"""The Zengin (全銀協) side of bank-transfer refunds: the real bank/branch code list (the
``zengin-code`` package), half-width kana for names, and the 総合振込 transfer file.

The file (全銀協規定フォーマット, 総合振込, 種別コード 21) is fixed-length: 120-byte records,
CRLF after each, Shift_JIS half-width characters only (digits, upper-case letters, half-width
katakana and a few symbols):

- header  (1): データ区分, 種別コード, コード区分, 依頼人コード, 依頼人名, 取組日 (MMDD),
  仕向銀行番号/名, 仕向支店番号/名, 預金種目, 口座番号, ダミー
- data    (2): one per refund — 被仕向銀行番号/名, 支店番号/名, 手形交換所番号, 預金種目,
  口座番号, 受取人名, 振込金額, 新規コード, 顧客コード1/2, 振込指定区分, 識別表示, ダミー
- trailer (8): 合計件数, 合計金額, ダミー
- end     (9): ダミー

``DATA_FIELDS`` etc. are the layout (name, width) in order, the one place the byte positions
are defined; tests parse a file back with them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import jaconv
from django.conf import settings

from backoffice.errors import InvalidInput

RECORD_LENGTH = 120
NEWLINE = b"\r\n"
ENCODING = "shift_jis"
KIND_SOGO_FURIKOMI = "21"  # 種別コード: 総合振込
CODE_DIVISION_JIS = "0"  # コード区分: 0 = JIS (SJIS)
# The account format (SPEC: 4-digit bank code, 3-digit branch code, 7-digit account number): the
# file's field widths and what bank.set_bank_account accepts. (BankAccount's max_length and check
# constraints in payments/models.py repeat it, fixed by migrations.)
BANK_CODE_DIGITS = 4
BRANCH_CODE_DIGITS = 3
ACCOUNT_NUMBER_DIGITS = 7
# 預金種目: 1 普通, 2 当座 (全銀協).
ACCOUNT_TYPE_CODES = {"ordinary": "1", "checking": "2"}
# 振込指定区分: 7 = 電信 (テレ振込).
TRANSFER_DESIGNATION = "7"

HEADER_FIELDS = (("record_type", 1), ("kind", 2), ("code_division", 1), ("requester_code", 10),
                 ("requester_name", 40), ("transfer_date", 4), ("bank_code", BANK_CODE_DIGITS), ("bank_name", 15),
                 ("branch_code", BRANCH_CODE_DIGITS), ("branch_name", 15), ("account_type", 1),
                 ("account_number", ACCOUNT_NUMBER_DIGITS),
                 ("dummy", 17))
DATA_FIELDS = (("record_type", 1), ("bank_code", BANK_CODE_DIGITS), ("bank_name", 15),
               ("branch_code", BRANCH_CODE_DIGITS), ("branch_name", 15), ("clearing_house", 4), ("account_type", 1),
               ("account_number", ACCOUNT_NUMBER_DIGITS),
               ("holder_name", 30), ("amount", 10), ("new_code", 1), ("customer_code1", 10),
               ("customer_code2", 10), ("designation", 1), ("identification", 1), ("dummy", 7))
TRAILER_FIELDS = (("record_type", 1), ("count", 6), ("total", 12), ("dummy", 101))
END_FIELDS = (("record_type", 1), ("dummy", 119))

# Characters a Zengin name field accepts (半角): digits, upper-case letters, half-width
# katakana (no small kana), dakuten/handakuten, space and ( ) - . / ,
_ALLOWED = re.compile(r"^[0-9A-Z\uFF71-\uFF9F ()\-./,\uFF62\uFF63\\]*$")
_SMALL_TO_LARGE = str.maketrans("ｧｨｩｪｫｬｭｮｯ", "ｱｲｳｴｵﾔﾕﾖﾂ")


# --- the bank and branch list -------------------------------------------------------------

@dataclass(frozen=True)
class BankBranch:
    bank_code: str
    bank_name: str
    bank_kana: str  # half-width, for the file
    branch_code: str
    branch_name: str
    branch_kana: str


@lru_cache(maxsize=1)
def _banks() -> dict:
    from zengin_code import Bank  # loads the whole list once (about 0.1 s)

    return Bank.all


def bank_exists(bank_code: str) -> bool:
    return bank_code in _banks()


def lookup(bank_code: str, branch_code: str) -> BankBranch:
    """The bank and branch for these codes, or ``bank_not_found`` / ``branch_not_found``."""
    bank = _banks().get(bank_code)
    if bank is None:
        raise InvalidInput("この金融機関コードの銀行は見つかりません。", code="bank_not_found", field="bank_code")
    branch = bank.branches.get(branch_code)
    if branch is None:
        raise InvalidInput("%(bank)sに支店コード%(branch_code)sの支店は見つかりません。",
                           params={"bank": bank.name, "branch_code": branch_code},
                           code="branch_not_found", field="branch_code")
    return BankBranch(bank.code, bank.name, half_width_kana(bank.kana), branch.code, branch.name,
                      half_width_kana(branch.kana))


# --- names in half-width kana ---------------------------------------------------------------

def half_width_kana(text: str) -> str:
    """Katakana or hiragana (full- or half-width) → the half-width upper-case form the file uses.

    Small kana become large (ｯ → ﾂ), the long-vowel mark becomes ``-``, ASCII is upper-cased.
    Raises nothing; ``holder_kana`` validates."""
    text = jaconv.hira2kata(unicodedata.normalize("NFKC", text).strip())
    text = text.replace("\u3000", " ")
    text = jaconv.z2h(text, kana=True, ascii=True, digit=True)
    text = text.replace("ｰ", "-").replace("−", "-").replace("‐", "-").upper()
    return re.sub(" +", " ", text.translate(_SMALL_TO_LARGE))


def holder_kana(value: object, *, field: str = "holder_kana", max_length: int = 30) -> str:
    """An account holder's name as typed (カタカナ, ひらがな, 全角/半角) → half-width kana for the
    file, or ``invalid_holder_kana`` (kanji, lower-case letters after folding are not possible)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("口座名義をカタカナで入力してください。", code="invalid_holder_kana", field=field)
    kana = half_width_kana(value)
    if not _ALLOWED.match(kana) or not kana.strip():
        raise InvalidInput("口座名義はカタカナで入力してください（漢字は使えません）。",
                           code="invalid_holder_kana", field=field)
    if len(kana) > max_length:
        raise InvalidInput("口座名義は半角%(n)s文字以内で入力してください。", params={"n": max_length},
                           code="invalid_holder_kana", field=field)
    return kana


# --- the transfer file ------------------------------------------------------------------------

@dataclass(frozen=True)
class Requester:
    """依頼人: the shop's own account the transfers are paid from (settings.ZENGIN_REQUESTER)."""

    code: str
    name: str
    bank: BankBranch
    account_type: str
    account_number: str

    @classmethod
    def from_settings(cls) -> Requester:
        conf = settings.ZENGIN_REQUESTER
        return cls(code=conf["code"], name=half_width_kana(conf["name"]),
                   bank=lookup(conf["bank_code"], conf["branch_code"]),
                   account_type=conf["account_type"], account_number=conf["account_number"])


@dataclass(frozen=True)
class Transfer:
    bank_code: str
    branch_code: str
    account_type: str  # ordinary | checking
    account_number: str
    holder_kana: str
    amount: int
    customer_code: str = ""


def _field(value: str, width: int, *, numeric: bool = False) -> str:
    value = str(value)
    if numeric:
        if not value.isascii() or not value.isdigit() or len(value) > width:
            raise ValueError(f"numeric field {value!r} does not fit {width}")
        return value.zfill(width)
    value = half_width_kana(value)[:width]
    if not _ALLOWED.match(value):
        raise ValueError(f"{value!r} has characters a Zengin record cannot carry")
    return value.ljust(width)


def _record(fields: tuple, values: list[str]) -> bytes:
    text = "".join(values)
    data = text.encode(ENCODING)
    if len(data) != RECORD_LENGTH or sum(w for _, w in fields) != RECORD_LENGTH:
        raise ValueError(f"record is {len(data)} bytes, not {RECORD_LENGTH}")
    return data + NEWLINE


def build_file(*, transfers: list[Transfer], transfer_date: date, requester: Requester | None = None) -> bytes:
    """The whole 総合振込 file: header, one data record per transfer, trailer, end."""
    requester = requester or Requester.from_settings()
    header = _record(HEADER_FIELDS, [
        "1", KIND_SOGO_FURIKOMI, CODE_DIVISION_JIS, _field(requester.code, 10, numeric=True),
        _field(requester.name, 40), f"{transfer_date:%m%d}",
        _field(requester.bank.bank_code, BANK_CODE_DIGITS, numeric=True), _field(requester.bank.bank_kana, 15),
        _field(requester.bank.branch_code, BRANCH_CODE_DIGITS, numeric=True), _field(requester.bank.branch_kana, 15),
        ACCOUNT_TYPE_CODES[requester.account_type],
        _field(requester.account_number, ACCOUNT_NUMBER_DIGITS, numeric=True), " " * 17,
    ])
    records = [header]
    for t in transfers:
        target = lookup(t.bank_code, t.branch_code)
        records.append(_record(DATA_FIELDS, [
            "2", _field(t.bank_code, BANK_CODE_DIGITS, numeric=True), _field(target.bank_kana, 15),
            _field(t.branch_code, BRANCH_CODE_DIGITS, numeric=True), _field(target.branch_kana, 15), " " * 4,
            ACCOUNT_TYPE_CODES[t.account_type], _field(t.account_number, ACCOUNT_NUMBER_DIGITS, numeric=True),
            _field(t.holder_kana, 30), _field(str(t.amount), 10, numeric=True), "0",
            _field(t.customer_code, 10), " " * 10, TRANSFER_DESIGNATION, " ", " " * 7,
        ]))
    total = sum(t.amount for t in transfers)
    records.append(_record(TRAILER_FIELDS, ["8", _field(str(len(transfers)), 6, numeric=True),
                                            _field(str(total), 12, numeric=True), " " * 101]))
    records.append(_record(END_FIELDS, ["9", " " * 119]))
    return b"".join(records)


def parse_file(content: bytes) -> list[dict[str, str]]:
    """Split a file back into records and fields by byte position (for checks and tests)."""
    layouts = {"1": HEADER_FIELDS, "2": DATA_FIELDS, "8": TRAILER_FIELDS, "9": END_FIELDS}
    records = []
    for raw in content.split(NEWLINE)[:-1]:
        if len(raw) != RECORD_LENGTH:
            raise ValueError(f"record of {len(raw)} bytes")
        fields, pos = {}, 0
        for name, width in layouts[raw[:1].decode()]:
            fields[name] = raw[pos:pos + width].decode(ENCODING)
            pos += width
        records.append(fields)
    return records
