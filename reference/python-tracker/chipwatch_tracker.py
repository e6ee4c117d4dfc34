#!/usr/bin/python3
"""A reference tracker for chipwatch's wire protocol v1, written from docs/protocol.md alone.

Debian packages only: python3-paho-mqtt and python3-cryptography (apt-get install -y python3-paho-mqtt
python3-cryptography). Three commands:

  chipwatch_tracker.py run CONFIG.json
      connect as the tracker, split the fixes into messages by bytes, sign (EdDSA or ES256), publish at QoS 1,
      verify every ack against the pinned ack key, delete only what a verified ack covers, resend the rest.
      Prints one JSON event per line on stdout; exits 0 once every message is acknowledged.
  chipwatch_tracker.py sign-vectors conformance/vectors/signer.json conformance/vectors/keys.json
      signs each signer vector; the output goes to `npx tsx conformance/check-signer.ts --vectors out.json`.
  chipwatch_tracker.py check-acks conformance/vectors/acks.json
      runs this tracker's ack check over the ack vectors; exit 0 when it agrees with every one.

CONFIG (JSON): deviceId, mqttPassword, kid, alg ("EdDSA" | "ES256"), privateKey ({"d": base64url} — the Ed25519 seed
or the P-256 scalar), ackKey ({"x": base64url}: chipwatch's pinned ack public key), mqttHost, mqttPort, tls
({"caFile": path} or null), topicPrefix (default chipwatch/v1), stateFile (the persistent buffer), fixesFile (a JSON
array of fixes to send), resendAfterS (default 30), maxResendAfterS (default 600), keepaliveS (default 60),
deadlineS (give up after; default 600), waitForGo (read a line from stdin before the first publish),
simulateLossOf (seqs whose first publish is "lost": not sent).
"""
import json
import os
import random
import sys
import threading
import time

MAX_MESSAGE_BYTES = 65536
MAX_RECORDS = 500
SIGNATURE_CHARS = 86  # 64 bytes in base64url
TELEMETRY_TYP = "chipwatch-telemetry+jws"
ACK_TYP = "chipwatch-ack+jws"
B64URL_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


# ---- encoding (docs/protocol.md §3) ----

def b64u(data):
    import base64
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text):
    """Strict base64url: the alphabet only, no padding."""
    import base64
    if not set(text) <= B64URL_CHARS or len(text) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def compact_json(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def b64_len(n):
    return (4 * n + 2) // 3


# ---- signing (§4) ----

def load_private_key(alg, d):
    if alg == "EdDSA":
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        return Ed25519PrivateKey.from_private_bytes(b64u_decode(d))
    if alg == "ES256":
        from cryptography.hazmat.primitives.asymmetric import ec
        return ec.derive_private_key(int.from_bytes(b64u_decode(d), "big"), ec.SECP256R1())
    raise ValueError("alg must be EdDSA or ES256")


def sign_raw(alg, key, data):
    """The 64-byte signature: Ed25519, or ECDSA P-256/SHA-256 as R‖S (cryptography returns DER: convert it)."""
    if alg == "EdDSA":
        return key.sign(data)
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def sign_jws(header_json, payload_json, alg, key):
    signing_input = b64u(header_json.encode("utf-8")) + "." + b64u(payload_json.encode("utf-8"))
    return signing_input + "." + b64u(sign_raw(alg, key, signing_input.encode("ascii")))


def telemetry_header(alg, kid):
    return compact_json({"alg": alg, "kid": kid, "typ": TELEMETRY_TYP})


def telemetry_payload(device_id, seq, records, sent_at):
    return compact_json({"v": 1, "deviceId": device_id, "seq": seq, "sentAt": sent_at, "records": records})


def message_size(header_json, payload_json):
    return b64_len(len(header_json.encode("utf-8"))) + 1 + b64_len(len(payload_json.encode("utf-8"))) + 1 + SIGNATURE_CHARS


def split_fixes(device_id, alg, kid, key, fixes, first_seq, now_ms):
    """Fixes (oldest first) → [(seq, jws)], each message as full as 65,536 bytes and 500 fixes allow (§9)."""
    header = telemetry_header(alg, kid)
    out, batch, seq = [], [], first_seq
    for fix in fixes:
        trial = batch + [fix]
        # sentAt is sized here with the same number of digits it will have.
        if len(trial) > MAX_RECORDS or message_size(header, telemetry_payload(device_id, seq, trial, now_ms)) > MAX_MESSAGE_BYTES:
            if not batch:
                raise ValueError("one fix does not fit a message")
            out.append((seq, sign_jws(header, telemetry_payload(device_id, seq, batch, now_ms), alg, key)))
            seq, batch = seq + 1, [fix]
        else:
            batch = trial
    if batch:
        out.append((seq, sign_jws(header, telemetry_payload(device_id, seq, batch, now_ms), alg, key)))
    return out


# ---- acks (§6) ----

def verify_ack(raw, ack_public_x, device_id):
    """The ack's payload when it verifies against the pinned key and names this tracker; else None."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    try:
        text = raw.decode("ascii") if isinstance(raw, (bytes, bytearray)) else raw
        parts = text.split(".")
        if len(parts) != 3:
            return None
        header = json.loads(b64u_decode(parts[0]))
        if not isinstance(header, dict) or header.get("alg") != "EdDSA" or header.get("typ") != ACK_TYP:
            return None
        key = Ed25519PublicKey.from_public_bytes(b64u_decode(ack_public_x))
        key.verify(b64u_decode(parts[2]), (parts[0] + "." + parts[1]).encode("ascii"))
        ack = json.loads(b64u_decode(parts[1]))
        def is_int(n):
            return isinstance(n, int) and not isinstance(n, bool)
        if not isinstance(ack, dict) or ack.get("v") != 1 or ack.get("deviceId") != device_id:
            return None
        if not is_int(ack.get("seq")) or not isinstance(ack.get("sack"), list):
            return None
        if not all(is_int(s) and s > ack["seq"] for s in ack["sack"]):
            return None
        return ack
    except (ValueError, UnicodeError, InvalidSignature, TypeError):
        return None


def covers(ack, seq):
    return seq <= ack["seq"] or seq in ack["sack"]


# ---- the persistent buffer ----

class Buffer:
    """Unacknowledged messages by seq and the next seq, saved atomically after every change."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.next_seq, self.pending, self.loaded_fixes = 1, {}, False
        if os.path.exists(path):
            with open(path) as f:
                state = json.load(f)
            self.next_seq = state["nextSeq"]
            self.pending = {int(k): v for k, v in state["pending"].items()}
            self.loaded_fixes = state.get("loadedFixes", False)

    def save(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"nextSeq": self.next_seq, "pending": self.pending, "loadedFixes": self.loaded_fixes}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


def emit(event, **fields):
    sys.stdout.write(compact_json({"event": event, **fields}) + "\n")
    sys.stdout.flush()


# ---- the tracker ----

def run(config):
    import paho.mqtt.client as mqtt

    device_id = config["deviceId"]
    prefix = config.get("topicPrefix", "chipwatch/v1")
    alg, kid = config.get("alg", "EdDSA"), config["kid"]
    key = load_private_key(alg, config["privateKey"]["d"])
    ack_x = config["ackKey"]["x"]
    base, cap = config.get("resendAfterS", 30), config.get("maxResendAfterS", 600)
    lose = set(config.get("simulateLossOf", []))
    buf = Buffer(config["stateFile"])

    with buf.lock:
        if not buf.loaded_fixes and config.get("fixesFile"):
            with open(config["fixesFile"]) as f:
                fixes = json.load(f)
            messages = split_fixes(device_id, alg, kid, key, fixes, buf.next_seq, int(time.time() * 1000))
            for seq, jws in messages:
                buf.pending[seq] = jws
                emit("signed", seq=seq, bytes=len(jws), records=len(json.loads(b64u_decode(jws.split(".")[1]))["records"]))
            buf.next_seq += len(messages)
            buf.loaded_fixes = True
            buf.save()  # persisted before anything is published

    sent = {}  # seq -> (attempts, last sent time)
    subscribed = threading.Event()
    ack_topic = f"{prefix}/devices/{device_id}/ack"
    telemetry_topic = f"{prefix}/devices/{device_id}/telemetry"

    def on_connect(client, _userdata, _flags, rc):
        if rc != 0:
            emit("connect_refused", code=rc)
            return
        emit("connected")
        with buf.lock:
            for seq in list(sent):  # after a reconnect, every uncovered message is due again
                sent[seq] = (sent[seq][0], 0.0)
        client.subscribe(ack_topic, qos=1)

    def on_subscribe(_client, _userdata, _mid, granted):
        if granted and granted[0] in (0, 1, 2):
            subscribed.set()
        else:
            emit("subscribe_refused", granted=list(granted))

    def on_message(_client, _userdata, msg):
        ack = verify_ack(msg.payload, ack_x, device_id)
        with buf.lock:
            if ack is None:
                emit("ack_ignored", pending=len(buf.pending), bytes=len(msg.payload))
                return
            deleted = sorted(s for s in buf.pending if covers(ack, s))
            for s in deleted:
                del buf.pending[s]
                sent.pop(s, None)
            if deleted:
                buf.save()
            emit("ack", seq=ack["seq"], sack=ack["sack"], deleted=deleted, pending=len(buf.pending))

    try:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION1, client_id=device_id, clean_session=False, protocol=mqtt.MQTTv311)
    except AttributeError:  # paho-mqtt 1.x
        client = mqtt.Client(client_id=device_id, clean_session=False, protocol=mqtt.MQTTv311)
    client.username_pw_set(device_id, config["mqttPassword"])
    if config.get("tls"):
        client.tls_set(ca_certs=config["tls"].get("caFile"))
    client.on_connect, client.on_subscribe, client.on_message = on_connect, on_subscribe, on_message
    client.connect(config.get("mqttHost", "127.0.0.1"), config.get("mqttPort", 1883), keepalive=config.get("keepaliveS", 60))
    client.loop_start()

    deadline = time.time() + config.get("deadlineS", 600)
    if not subscribed.wait(timeout=30):
        emit("gave_up", reason="not subscribed to the ack topic")
        return 1
    if config.get("waitForGo"):
        with buf.lock:
            emit("ready", pending=len(buf.pending))
        sys.stdin.readline()

    while time.time() < deadline:
        with buf.lock:
            if not buf.pending:
                emit("done")
                client.disconnect()
                client.loop_stop()
                return 0
            due = []
            now = time.time()
            for seq in sorted(buf.pending):  # oldest first
                attempts, last = sent.get(seq, (0, 0.0))
                wait = 0 if attempts == 0 else min(cap, base * 2 ** (attempts - 1)) * random.uniform(0.8, 1.2)
                if now - last >= wait:
                    due.append((seq, buf.pending[seq], attempts))
                    sent[seq] = (attempts + 1, now)
        for seq, jws, attempts in due:
            if attempts == 0 and seq in lose:
                emit("lost", seq=seq)
                continue
            client.publish(telemetry_topic, jws.encode("ascii"), qos=1)  # the stored bytes, never re-signed
            emit("published", seq=seq, attempt=attempts + 1, bytes=len(jws))
        time.sleep(0.05)
    emit("gave_up", reason="deadline", pending=sorted(buf.pending))
    client.loop_stop()
    return 1


def sign_vectors(signer_path, keys_path):
    with open(signer_path) as f:
        cases = json.load(f)["cases"]
    with open(keys_path) as f:
        devices = {d["id"]: d for d in json.load(f)["devices"]}
    out = []
    for case in cases:
        d = devices[case["deviceId"]]
        key = load_private_key(d["alg"], d["privateJwk"]["d"])
        out.append({"name": case["name"], "jws": sign_jws(case["header"], case["payload"], d["alg"], key)})
    print(json.dumps({"cases": out}, indent=2))
    return 0


def check_acks(acks_path):
    with open(acks_path) as f:
        vectors = json.load(f)
    failures = 0
    for case in vectors["cases"]:
        ack = verify_ack(case["ack"], vectors["ackKey"]["x"], vectors["deviceId"])
        ok = (ack is not None) == case["valid"]
        if ok and ack is not None:
            ok = all(covers(ack, s) for s in case.get("covers", [])) and not any(covers(ack, s) for s in case.get("notCovered", []))
        print(("PASS " if ok else "FAIL ") + case["name"])
        failures += 0 if ok else 1
    return 1 if failures else 0


def main(argv):
    if len(argv) >= 2 and argv[0] == "run":
        with open(argv[1]) as f:
            return run(json.load(f))
    if len(argv) == 3 and argv[0] == "sign-vectors":
        return sign_vectors(argv[1], argv[2])
    if len(argv) == 2 and argv[0] == "check-acks":
        return check_acks(argv[1])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
