"""Decrypt a captured BOLT 8 connection with nothing but a key log, as Wireshark's
lightning-dissector does, to check the key log lnpeerd writes (tests/keylog.rs).

Usage: keylog_decrypt.py <key_log> <initiator_to_responder> <responder_to_initiator>

The two capture files hold the raw bytes of each direction of one TCP connection, from its
first byte. The key log has one line per key: the hex 16-byte tag of the first length header
sealed with that key, a space, the hex 32-byte key. A key is found by the tag of the frame
that first uses it (nonce 0); it then serves that direction for 1000 nonces (500 frames), after
which the next frame's tag must be in the log again: exactly the dissector's lookup.

Prints one line, `{"result": {"initiator": ..., "responder": ...}}`; each direction gives its
plaintext messages in order (hex), the number of keys it used and the frame indices where a
new key was looked up. Exits 1, with the reason on stderr, if a tag is missing from the log,
a frame does not authenticate, or a direction ends inside a frame.
"""

import json
import struct
import sys

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

ACT_ONE_LEN, ACT_TWO_LEN, ACT_THREE_LEN = 50, 50, 66
HEADER_LEN, TAG_LEN = 18, 16
ROTATION_NONCE = 1000


class Failure(Exception):
    pass


def read_key_log(path):
    keys = {}
    with open(path, encoding="ascii") as log:
        for number, line in enumerate(log, 1):
            parts = line.split()
            if len(parts) != 2 or len(parts[0]) != 32 or len(parts[1]) != 64:
                raise Failure(f"{path}:{number}: not '<32 hex> <64 hex>': {line!r}")
            if parts[0] != parts[0].lower() or parts[1] != parts[1].lower():
                raise Failure(f"{path}:{number}: hex must be lower case: {line!r}")
            keys[bytes.fromhex(parts[0])] = bytes.fromhex(parts[1])
    return keys


def noise_nonce(counter):
    return b"\x00\x00\x00\x00" + struct.pack("<Q", counter)


def decrypt_direction(data, handshake_len, keys):
    at = handshake_len
    key, nonce = None, 0
    messages, new_key_frames = [], []
    while at < len(data):
        if len(data) - at < HEADER_LEN:
            raise Failure(f"ends inside a length header at byte {at}")
        header = data[at:at + HEADER_LEN]
        if key is None or nonce == ROTATION_NONCE:
            mac = header[2:]
            if mac not in keys:
                raise Failure(f"frame {len(messages)}: tag {mac.hex()} is not in the key log")
            key, nonce = keys[mac], 0
            new_key_frames.append(len(messages))
        aead = ChaCha20Poly1305(key)
        try:
            length = struct.unpack(">H", aead.decrypt(noise_nonce(nonce), header, None))[0]
        except Exception as error:
            raise Failure(f"frame {len(messages)}: length header: {error!r}") from error
        nonce += 1
        at += HEADER_LEN
        if len(data) - at < length + TAG_LEN:
            raise Failure(f"frame {len(messages)}: ends inside a {length}-byte body")
        body = data[at:at + length + TAG_LEN]
        try:
            plaintext = aead.decrypt(noise_nonce(nonce), body, None)
        except Exception as error:
            raise Failure(f"frame {len(messages)}: body: {error!r}") from error
        nonce += 1
        at += length + TAG_LEN
        messages.append(plaintext.hex())
    return {
        "messages": messages,
        "keys_used": len(new_key_frames),
        "new_key_frames": new_key_frames,
    }


def main():
    key_log, initiator_path, responder_path = sys.argv[1:4]
    keys = read_key_log(key_log)
    with open(initiator_path, "rb") as f:
        initiator = f.read()
    with open(responder_path, "rb") as f:
        responder = f.read()
    try:
        result = {
            "initiator": decrypt_direction(initiator, ACT_ONE_LEN + ACT_THREE_LEN, keys),
            "responder": decrypt_direction(responder, ACT_TWO_LEN, keys),
        }
    except Failure as failure:
        print(f"keylog_decrypt: {failure}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps({"result": result}))


if __name__ == "__main__":
    main()
