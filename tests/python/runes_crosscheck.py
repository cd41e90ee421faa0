"""Cross-checks lnpeer's runes with the Python `runes` package (written independently of us).

Usage:
  runes_crosscheck.py check HSM_SECRET_HEX RUNE METHOD [PARAMS_JSON]
      prints "valid" or "invalid: <reason>" for RUNE checked with the master secret derived from
      HSM_SECRET_HEX as CLN derives it, for a call of METHOD with PARAMS_JSON (an object).
  runes_crosscheck.py mint HSM_SECRET_HEX UNIQUE_ID RESTRICTION...
      prints the base64 of a rune minted with that master secret and unique id, one restriction
      per argument (alternatives joined by '|', as `field=value|field2^value2`).

The master secret: HKDF-SHA256 with an empty salt over the hsm_secret with info
"derived secrets", then over that with info "commando" (CLN's hsmd and runes.c).
"""
import json
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
import runes


def hkdf(ikm, info):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(ikm)


def master_secret(hsm_secret_hex):
    return hkdf(hkdf(bytes.fromhex(hsm_secret_hex), b"derived secrets"), b"commando")


def main():
    command, secret_hex = sys.argv[1], sys.argv[2]
    secret = master_secret(secret_hex)
    if command == "check":
        rune, method = sys.argv[3], sys.argv[4]
        params = json.loads(sys.argv[5]) if len(sys.argv) > 5 else {}
        values = {"method": method, "pnum": len(params)}
        for name, value in params.items():
            values["pname" + name] = value
        ok, reason = runes.check_with_reason(secret, rune, values)
        print("valid" if ok else "invalid: " + reason)
    elif command == "mint":
        unique_id = sys.argv[3]
        rune = runes.Rune(runes.MasterRune(secret).authcode(), unique_id=unique_id)
        for text in sys.argv[4:]:
            rune.add_restriction(runes.Restriction.from_str(text))
        print(rune.to_base64())
    else:
        sys.exit("unknown command " + command)


main()
