"""A loopback Web Push service for the tests: it holds a browser's side of a
subscription (a P-256 key pair and an auth secret), answers POSTs with the
statuses it is told to, records every request, and decrypts the bodies per
RFC 8291 / RFC 8188 (aes128gcm) and checks the VAPID signature (RFC 8292)
with the `cryptography` package: an implementation independent of the
server's."""
import base64
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def b64d(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64e(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hkdf(salt, ikm, info, length):
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


class PushReceiver:
    def __init__(self, statuses=()):
        """`statuses`: the answers to give, in order; then 201 for ever."""
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.public = self.private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        self.auth = os.urandom(16)
        self.statuses = list(statuses)
        self.requests = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver.lock:
                    receiver.requests.append(
                        {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                    status = receiver.statuses.pop(0) if receiver.statuses else 201
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def origin(self):
        return f"http://127.0.0.1:{self.port}"

    def endpoint(self, path="/push/abc"):
        return self.origin + path

    def keys(self):
        return {"p256dh": b64e(self.public), "auth": b64e(self.auth)}

    def wait_for(self, count, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.05)
        with self.lock:
            raise AssertionError(f"expected {count} push requests, got {len(self.requests)}")

    def decrypt(self, body):
        """The plaintext of an aes128gcm body sent to this subscription."""
        salt, rs, idlen = body[:16], int.from_bytes(body[16:20], "big"), body[20]
        sender_public = body[21:21 + idlen]
        ciphertext = body[21 + idlen:]
        assert idlen == 65 and rs >= len(ciphertext), (idlen, rs, len(ciphertext))
        sender = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sender_public)
        ecdh = self.private.exchange(ec.ECDH(), sender)
        ikm = hkdf(self.auth, ecdh, b"WebPush: info\x00" + self.public + sender_public, 32)
        cek = hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
        nonce = hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
        padded = AESGCM(cek).decrypt(nonce, ciphertext, None)
        text = padded.rstrip(b"\x00")
        assert text.endswith(b"\x02"), "not the last record"
        return json.loads(text[:-1])

    def check_vapid(self, request, server_key):
        """Verifies the Authorization header; returns the JWT's claims."""
        auth = request["headers"]["authorization"]
        assert auth.startswith("vapid t="), auth
        token, key = auth[len("vapid t="):].split(", k=")
        assert key == server_key
        header, claims, signature = token.split(".")
        assert json.loads(b64d(header)) == {"typ": "JWT", "alg": "ES256"}
        raw = b64d(signature)
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64d(key))
        public.verify(encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")),
                      f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
        return json.loads(b64d(claims))

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
