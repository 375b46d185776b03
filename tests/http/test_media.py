"""Media: uploads (v1, v2), the attachment entity, serving, attaching to
statuses, profile pictures, clean-up, and every bad input we refuse.
Images are made in the test with Pillow, so EXIF and GPS fixtures are real."""
import io
import os
import time
import urllib.parse

import pytest
import requests
from PIL import Image

from helpers import TIMEOUT, anon_get, assert_error, assert_status, ids, json_of, raw_http

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def image_bytes(fmt, size=(64, 48), color=(200, 30, 30), mode="RGB", exif=None):
    img = Image.new(mode, size, color if mode == "RGB" else color + (128,))
    # Some structure, so previews and blurhashes are not of a flat colour.
    for x in range(size[0]):
        img.putpixel((x, x * size[1] // size[0]), (0, 0, 0) if mode == "RGB" else (0, 0, 0, 255))
    buf = io.BytesIO()
    kw = {"exif": exif} if exif is not None else {}
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def gps_exif(orientation=None):
    exif = Image.Exif()
    exif[0x010F] = "HoldfastCam"  # Make
    if orientation:
        exif[ORIENTATION] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (52.0, 31.0, 12.0)
    gps[3] = "E"
    gps[4] = (13.0, 24.0, 36.0)
    return exif


def upload(client, data, name="pic.png", mime="image/png", version="v2", **fields):
    return client.post(f"/api/{version}/media", files={"file": (name, data, mime)}, data=fields)


def uploaded(client, data, **kw):
    r = upload(client, data, **kw)
    assert r.status_code == 200, r.text
    return r.json()


def fetch(server, url, **kw):
    """Media URLs are absolute; they must point at this server."""
    assert url.startswith(server.base_url + "/system/media/"), url
    return requests.get(url, timeout=TIMEOUT, **kw)


def assert_attachment(m):
    for k in ("id", "type", "url", "preview_url", "remote_url", "meta", "description", "blurhash"):
        assert k in m, (k, m)
    assert m["type"] == "image"
    assert m["remote_url"] is None
    assert isinstance(m["blurhash"], str) and len(m["blurhash"]) == 28, m["blurhash"]
    for size in ("original", "small"):
        meta = m["meta"][size]
        assert meta["size"] == f"{meta['width']}x{meta['height']}"
        assert abs(meta["aspect"] - meta["width"] / meta["height"]) < 1e-9


@pytest.mark.parametrize("fmt,mime", [("JPEG", "image/jpeg"), ("PNG", "image/png"),
                                      ("GIF", "image/gif"), ("WEBP", "image/webp")])
def test_upload_each_format(server, alice, fmt, mime):
    m = uploaded(alice, image_bytes(fmt, size=(1280, 720)), name=f"x.{fmt.lower()}", mime=mime,
                 description="a red square")
    assert_attachment(m)
    assert m["description"] == "a red square"
    assert m["meta"]["original"]["width"] == 1280 and m["meta"]["original"]["height"] == 720
    assert (m["meta"]["small"]["width"], m["meta"]["small"]["height"]) == (640, 360)
    original = fetch(server, m["url"])
    assert original.status_code == 200
    assert original.headers["Content-Type"] in ("image/jpeg", "image/png")
    assert original.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in original.headers["Content-Security-Policy"]
    assert "immutable" in original.headers["Cache-Control"]
    assert original.headers.get("ETag")
    assert original.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in original.headers
    with Image.open(io.BytesIO(original.content)) as img:
        assert img.size == (1280, 720)
        assert Image.MIME[img.format] == original.headers["Content-Type"]
    preview = fetch(server, m["preview_url"])
    assert preview.status_code == 200
    with Image.open(io.BytesIO(preview.content)) as img:
        assert img.size == (640, 360)


def test_large_originals_are_scaled_to_3840x2160_pixels(server, alice):
    m = uploaded(alice, image_bytes("JPEG", size=(4000, 3000)), name="big.jpg", mime="image/jpeg")
    o = m["meta"]["original"]
    assert 8_000_000 < o["width"] * o["height"] <= 3840 * 2160, o
    assert abs(o["aspect"] - 4 / 3) < 0.01
    with Image.open(io.BytesIO(fetch(server, m["url"]).content)) as img:
        assert img.size == (o["width"], o["height"])


def test_v1_upload_and_get(alice):
    m = uploaded(alice, image_bytes("PNG"), version="v1", focus="0.5,-0.25")
    assert m["meta"]["focus"] == {"x": 0.5, "y": -0.25}
    r = alice.get(f"/api/v1/media/{m['id']}")
    assert r.status_code == 200 and r.json()["id"] == m["id"]


def test_transparency_stays_png(server, alice):
    m = uploaded(alice, image_bytes("PNG", mode="RGBA"))
    assert fetch(server, m["url"]).headers["Content-Type"] == "image/png"


def test_gps_exif_is_stripped_and_orientation_applied(server, alice):
    data = image_bytes("JPEG", size=(80, 40), exif=gps_exif(orientation=6))
    assert b"HoldfastCam" in data  # the fixture really carries EXIF
    with Image.open(io.BytesIO(data)) as img:
        assert img.getexif().get_ifd(GPS_IFD), "the fixture carries GPS"
    m = uploaded(alice, data, name="photo.jpg", mime="image/jpeg")
    # Orientation 6 (rotate 90°): a landscape file is a portrait picture.
    assert (m["meta"]["original"]["width"], m["meta"]["original"]["height"]) == (40, 80)
    for url in (m["url"], m["preview_url"]):
        served = fetch(server, url).content
        assert b"HoldfastCam" not in served and b"Exif" not in served
        with Image.open(io.BytesIO(served)) as img:
            assert not img.getexif().get_ifd(GPS_IFD)
            assert ORIENTATION not in img.getexif()
            assert img.size == (40, 80)


def test_claims_png_but_is_not(alice):
    r = upload(alice, b"<html><script>alert(1)</script></html>", name="x.png", mime="image/png")
    assert_error(r, 422)
    r = upload(alice, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, name="x.png", mime="image/png")
    assert_error(r, 422)
    r = upload(alice, b"")
    assert_error(r, 422)


def test_type_is_decided_by_content_not_claims(server, alice):
    # A real JPEG sent as "image/png" named .gif is a JPEG.
    m = uploaded(alice, image_bytes("JPEG"), name="lies.gif", mime="image/png")
    assert fetch(server, m["url"]).headers["Content-Type"] == "image/jpeg"


def png_chunk(kind, data):
    import zlib
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


def test_decompression_bomb_refused_quickly(alice):
    import zlib
    # 50000x50000 RGB declared, a few bytes of compressed zeros given.
    ihdr = (50000).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    bomb = (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", zlib.compress(b"\x00" * 100_000)) + png_chunk(b"IEND", b""))
    started = time.monotonic()
    body = assert_error(upload(alice, bomb), 422)
    assert time.monotonic() - started < 5
    assert "too large" in body["error"].lower()


def test_missing_file_and_bad_fields(alice):
    assert_error(alice.post("/api/v2/media", data={"description": "no file"}), 422)
    assert_error(upload(alice, image_bytes("PNG"), focus="3,0"), 422)
    assert_error(upload(alice, image_bytes("PNG"), description="x" * 1501), 422)
    m = uploaded(alice, image_bytes("PNG"), description="x" * 1500)
    assert len(m["description"]) == 1500


def test_media_needs_a_user_token_with_write_media(server, alice):
    assert_error(requests.post(server.url("/api/v2/media"), files={"file": ("x.png", image_bytes("PNG"))},
                               timeout=TIMEOUT), 401)


def test_get_update_delete_only_own(alice, bob):
    m = uploaded(alice, image_bytes("PNG"))
    assert_error(bob.get(f"/api/v1/media/{m['id']}"), 404)
    assert_error(bob.put(f"/api/v1/media/{m['id']}", json={"description": "mine"}), 404)
    assert_error(bob.delete(f"/api/v1/media/{m['id']}"), 404)
    assert_error(alice.get("/api/v1/media/nonsense"), 404)
    r = alice.put(f"/api/v1/media/{m['id']}", json={"description": "updated", "focus": "-1,1"})
    assert r.status_code == 200, r.text
    assert r.json()["description"] == "updated"
    assert r.json()["meta"]["focus"] == {"x": -1.0, "y": 1.0}
    assert_error(alice.put(f"/api/v1/media/{m['id']}", json={"focus": "1"}), 422)
    r = alice.put(f"/api/v1/media/{m['id']}", json={"description": ""})
    assert r.status_code == 200 and r.json()["description"] is None
    r = alice.put(f"/api/v1/media/{m['id']}", json={"description": "updated"})
    assert r.status_code == 200 and r.json()["description"] == "updated"
    assert alice.get(f"/api/v1/media/{m['id']}").json()["description"] == "updated"
    assert alice.delete(f"/api/v1/media/{m['id']}").status_code == 200
    assert_error(alice.get(f"/api/v1/media/{m['id']}"), 404)


def test_post_with_media_then_rules(server, alice, bob):
    a = uploaded(alice, image_bytes("PNG", size=(30, 20)), description="first")
    b = uploaded(alice, image_bytes("JPEG", size=(20, 30)), description="second")
    r = alice.post("/api/v1/statuses", json={"status": "", "media_ids": [b["id"], a["id"]]})
    assert r.status_code == 200, r.text
    s = r.json()
    assert_status(s)
    assert [m["id"] for m in s["media_attachments"]] == [b["id"], a["id"]]
    assert s["media_attachments"][0]["description"] == "second"
    assert_attachment(s["media_attachments"][1])
    # Rendered everywhere the status is.
    got = anon_get(server, f"/api/v1/statuses/{s['id']}").json()
    assert [m["id"] for m in got["media_attachments"]] == [b["id"], a["id"]]
    # Attached: GET still works for the owner, PUT is 404, DELETE is 422.
    assert alice.get(f"/api/v1/media/{a['id']}").status_code == 200
    assert_error(alice.put(f"/api/v1/media/{a['id']}", json={"description": "late"}), 404)
    assert_error(alice.delete(f"/api/v1/media/{a['id']}"), 422)

    before = alice.get(f"/api/v1/accounts/{alice.id}").json()["statuses_count"]
    fresh = uploaded(alice, image_bytes("PNG"))
    # Attach twice, someone else's upload, an unknown id, a malformed id: 422, nothing written.
    theirs = uploaded(bob, image_bytes("PNG"))
    for media_ids in ([fresh["id"], a["id"]], [fresh["id"], theirs["id"]], [fresh["id"], "4242"], ["x"]):
        assert_error(alice.post("/api/v1/statuses", json={"status": "again", "media_ids": media_ids}), 422)
    assert alice.get(f"/api/v1/accounts/{alice.id}").json()["statuses_count"] == before
    # The good upload was not consumed by the failed posts.
    r = alice.post("/api/v1/statuses", data={"status": "form", "media_ids[]": [fresh["id"]]})
    assert r.status_code == 200, r.text
    assert [m["id"] for m in r.json()["media_attachments"]] == [fresh["id"]]


def test_fifth_attachment_refused(alice):
    media = [uploaded(alice, image_bytes("PNG", size=(8, 8)))["id"] for _ in range(5)]
    body = assert_error(alice.post("/api/v1/statuses", json={"status": "five", "media_ids": media}), 422)
    assert "4" in body["error"]
    r = alice.post("/api/v1/statuses", json={"status": "four", "media_ids": media[:4]})
    assert r.status_code == 200 and len(r.json()["media_attachments"]) == 4


def test_empty_text_without_media_still_refused(alice):
    assert_error(alice.post("/api/v1/statuses", json={"status": ""}), 422)


def test_status_delete_removes_files(server, alice):
    m = uploaded(alice, image_bytes("PNG"))
    s = alice.status("with picture", media_ids=[m["id"]])
    assert fetch(server, m["url"]).status_code == 200
    r = alice.delete(f"/api/v1/statuses/{s['id']}")
    assert r.status_code == 200
    assert [x["id"] for x in r.json()["media_attachments"]] == [m["id"]]
    for url in (m["url"], m["preview_url"]):
        assert_error(fetch(server, url), 404)
    assert_error(alice.get(f"/api/v1/media/{m['id']}"), 404)
    if server.database is None:
        key = m["url"].rsplit("/", 1)[1]
        assert not os.path.exists(os.path.join(server.data_dir, "media", key))


def test_media_delete_removes_files(server, alice):
    m = uploaded(alice, image_bytes("PNG"))
    assert alice.delete(f"/api/v1/media/{m['id']}").status_code == 200
    assert_error(fetch(server, m["url"]), 404)


def test_range_requests_and_etag(server, alice):
    m = uploaded(alice, image_bytes("PNG", size=(300, 200)))
    whole = fetch(server, m["url"])
    data, n = whole.content, len(whole.content)
    assert whole.headers["Accept-Ranges"] == "bytes"
    r = fetch(server, m["url"], headers={"Range": "bytes=0-9"})
    assert r.status_code == 206 and r.content == data[:10]
    assert r.headers["Content-Range"] == f"bytes 0-9/{n}"
    r = fetch(server, m["url"], headers={"Range": "bytes=-5"})
    assert r.status_code == 206 and r.content == data[-5:]
    r = fetch(server, m["url"], headers={"Range": f"bytes={n - 3}-"})
    assert r.status_code == 206 and r.content == data[-3:]
    r = fetch(server, m["url"], headers={"Range": f"bytes={n}-"})
    assert r.status_code == 416 and r.headers["Content-Range"] == f"bytes */{n}"
    # A refusal must not be cached in the picture's place.
    assert r.headers["Cache-Control"] == "no-store" and "ETag" not in r.headers
    r = fetch(server, m["url"], headers={"Range": "bytes=0-1,4-5"})
    assert r.status_code == 200 and r.content == data
    r = fetch(server, m["url"], headers={"If-None-Match": whole.headers["ETag"]})
    assert r.status_code == 304 and not r.content
    # HEAD answers headers only.
    r = requests.head(m["url"], timeout=TIMEOUT)
    assert r.status_code == 200 and r.headers["Content-Type"] == whole.headers["Content-Type"]
    assert not r.content


def test_unknown_and_malformed_media_paths(server):
    for path in ("/system/media/0123abcd-original.jpg", "/system/media/..%2Fholdfast.db",
                 "/system/media/UPPER.jpg", "/system/media/x"):
        assert_error(anon_get(server, path), 404)


def test_avatar_and_header_upload_and_delete(server, alice):
    big = image_bytes("JPEG", size=(1000, 800), exif=gps_exif())
    r = alice.patch("/api/v1/accounts/update_credentials",
                    files={"avatar": ("me.jpg", big, "image/jpeg"),
                           "header": ("h.png", image_bytes("PNG", size=(3000, 500)), "image/png")},
                    data={"display_name": "Alice Pic"})
    assert r.status_code == 200, r.text
    acc = r.json()
    assert acc["display_name"] == "Alice Pic"
    assert "/system/media/" in acc["avatar"] and acc["avatar_static"] == acc["avatar"]
    assert "/system/media/" in acc["header"] and acc["header_static"] == acc["header"]
    avatar = fetch(server, acc["avatar"])
    with Image.open(io.BytesIO(avatar.content)) as img:
        assert max(img.size) <= 400 and img.size == (400, 320)
        assert not img.getexif().get_ifd(GPS_IFD)
    with Image.open(io.BytesIO(fetch(server, acc["header"]).content)) as img:
        assert img.size == (1500, 250)
    # Everyone sees it.
    assert anon_get(server, f"/api/v1/accounts/{alice.id}").json()["avatar"] == acc["avatar"]
    # Replacing removes the old file.
    r = alice.patch("/api/v1/accounts/update_credentials",
                    files={"avatar": ("me2.png", image_bytes("PNG", size=(50, 50)), "image/png")})
    assert r.status_code == 200, r.text
    assert r.json()["avatar"] != acc["avatar"]
    assert_error(fetch(server, acc["avatar"]), 404)
    new_avatar = r.json()["avatar"]

    r = alice.delete("/api/v1/profile/avatar")
    assert r.status_code == 200, r.text
    assert r.json()["avatar"].endswith("/avatars/original/missing.png")
    assert "source" in r.json()  # a CredentialAccount
    assert_error(fetch(server, new_avatar), 404)
    r = alice.delete("/api/v1/profile/header")
    assert r.status_code == 200 and r.json()["header"].endswith("/headers/original/missing.png")
    # Deleting again is fine.
    assert alice.delete("/api/v1/profile/avatar").status_code == 200


def test_bad_avatar_changes_nothing(alice):
    before = alice.get("/api/v1/accounts/verify_credentials").json()
    r = alice.patch("/api/v1/accounts/update_credentials",
                    files={"avatar": ("x.png", b"not an image", "image/png")},
                    data={"display_name": "Should Not Stick"})
    assert_error(r, 422)
    after = alice.get("/api/v1/accounts/verify_credentials").json()
    assert after["display_name"] == before["display_name"]
    assert after["avatar"] == before["avatar"]


def test_only_media_filters(server, alice):
    plain = alice.status("words only")
    m = uploaded(alice, image_bytes("PNG"))
    pic = alice.status("a picture", media_ids=[m["id"]])
    r = alice.get(f"/api/v1/accounts/{alice.id}/statuses", params={"only_media": "true"})
    assert r.status_code == 200 and ids(r.json()) == [pic["id"]]
    r = alice.get(f"/api/v1/accounts/{alice.id}/statuses")
    assert ids(r.json())[:2] == [pic["id"], plain["id"]]
    public = alice.get("/api/v1/timelines/public", params={"only_media": "true", "limit": 40}).json()
    assert pic["id"] in ids(public) and plain["id"] not in ids(public)
    assert all(s["media_attachments"] for s in public)


def test_metrics_show_the_decode_pool(server):
    text = anon_get(server, "/metrics").text
    assert "holdfast_media_decode_slots 2" in text
    assert "holdfast_media_decodes_running 0" in text


def test_instance_reports_media_limits(server):
    for path in ("/api/v1/instance", "/api/v2/instance"):
        conf = json_of(anon_get(server, path))["configuration"]
        assert conf["statuses"]["max_media_attachments"] == 4
        media = conf["media_attachments"]
        assert set(media["supported_mime_types"]) >= {"image/jpeg", "image/png", "image/gif", "image/webp"}
        assert media["image_size_limit"] == 16 * 1024 * 1024
        assert media["image_matrix_limit"] == 7680 * 4320
        assert media["description_limit"] == 1500


def config_with(tmp_path, extra):
    """The suite's config with some [limits] keys replaced."""
    base = open(os.path.join(os.path.dirname(os.path.dirname(__file__)), "holdfast-test.toml")).read()
    keys = {line.split("=")[0].strip() for line in extra.splitlines() if "=" in line}
    kept = [line for line in base.splitlines() if line.split("=")[0].strip() not in keys]
    path = tmp_path / "media.toml"
    path.write_text("\n".join(kept) + "\n" + extra)
    return str(path)


def test_upload_budget_per_principal(make_server, tmp_path):
    from conftest import sign_up
    s = make_server("--config", config_with(tmp_path, "rate_media_requests = 2\n"))
    c = sign_up(s)
    for _ in range(2):
        assert upload(c, image_bytes("PNG")).status_code == 200
    r = upload(c, image_bytes("PNG"))
    assert_error(r, 429)
    # Reading is not spent by uploads.
    assert c.get("/api/v1/timelines/home").status_code == 200


def test_unattached_uploads_are_cleaned_up(make_server, tmp_path):
    from conftest import sign_up
    s = make_server("--config", config_with(
        tmp_path, "media_unattached_ttl_s = 1\nmedia_cleanup_interval_s = 1\n"))
    c = sign_up(s)
    loose = uploaded(c, image_bytes("PNG"))
    kept = uploaded(c, image_bytes("PNG"))
    c.status("kept", media_ids=[kept["id"]])
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and c.get(f"/api/v1/media/{loose['id']}").status_code == 200:
        time.sleep(0.5)
    assert_error(c.get(f"/api/v1/media/{loose['id']}"), 404)
    assert_error(fetch(s, loose["url"]), 404)
    assert c.get(f"/api/v1/media/{kept['id']}").status_code == 200
    assert fetch(s, kept["url"]).status_code == 200


def test_upload_over_the_media_body_cap_is_413(server, alice):
    boundary = "holdfastbench"
    blob = os.urandom(17 * 1024 * 1024 + 1)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.jpg\"\r\n"
            f"Content-Type: image/jpeg\r\n\r\n").encode() + blob + f"\r\n--{boundary}--\r\n".encode()
    status, headers, rest = raw_http(server, "POST", "/api/v2/media", {
        "Authorization": f"Bearer {alice.token}",
        "Content-Type": f"multipart/form-data; boundary={boundary}"}, body, timeout=60)
    assert status == 413, rest[:300]
    # Under the cap but over the image cap: 422, not 413.
    big_image = b"\xff\xd8\xff" + os.urandom(16 * 1024 * 1024 + 10)
    assert_error(upload(alice, big_image, name="x.jpg", mime="image/jpeg"), 422)


def test_decode_pool_is_bounded(make_server, tmp_path):
    """One decode at a time and no waiting: uploads that find the pool busy get
    503 with Retry-After at once, and the pool serves again afterwards."""
    import concurrent.futures
    from conftest import sign_up
    s = make_server("--config", config_with(
        tmp_path, "media_decode_concurrency = 1\nmedia_decode_wait_ms = 0\n"))
    clients = [sign_up(s) for _ in range(4)]
    photo = image_bytes("PNG", size=(4000, 3000))  # ~1 s of work each, so they overlap
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda c: upload(c, photo), clients))
    codes = sorted(r.status_code for r in answers)
    assert 200 in codes and 503 in codes, codes
    busy = [r for r in answers if r.status_code == 503]
    for r in busy:
        assert r.headers.get("Retry-After")
        assert_error(r, 503)
    # Refused by the decode pool in the handler, not by the guard's admission ("The server is busy").
    assert all("busy" not in r.json()["error"] for r in busy), [r.text for r in busy]
    assert upload(clients[0], image_bytes("PNG")).status_code == 200


def test_media_files_do_not_spend_the_api_budget(make_server, tmp_path):
    """Pictures load as plain image requests; a page of them must not exhaust
    the anonymous API budget (Mastodon does not count them either)."""
    from conftest import sign_up
    s = make_server("--config", config_with(tmp_path, "rate_anonymous_ip_requests = 5\n"))
    c = sign_up(s)
    m = uploaded(c, image_bytes("PNG"))
    for _ in range(12):
        assert fetch(s, m["preview_url"]).status_code == 200
    for _ in range(6):
        r = anon_get(s, "/api/v1/timelines/public")
    assert_error(r, 429)


def test_large_file_with_the_anonymous_cache_on(make_server, tmp_path):
    """The anonymous GET cache (on by default, off in the suite's config) must
    never cut a large picture short."""
    from conftest import sign_up
    s = make_server("--config", config_with(tmp_path, "anon_cache_ttl_ms = 1000\n"))
    c = sign_up(s)
    noisy = Image.effect_noise((1200, 900), 64).convert("RGB")
    buf = io.BytesIO()
    noisy.save(buf, "PNG")
    m = uploaded(c, buf.getvalue())
    bodies = set()
    for _ in range(3):
        r = fetch(s, m["url"])
        assert r.status_code == 200
        assert int(r.headers["Content-Length"]) == len(r.content)
        bodies.add(r.content)
    assert len(bodies) == 1
    whole = bodies.pop()
    assert len(whole) > 600 * 1024  # several serving chunks (256 KiB each)
    with Image.open(io.BytesIO(whole)) as img:
        img.load()
        assert img.size == (1200, 900)
    # A range across chunk boundaries.
    r = fetch(s, m["url"], headers={"Range": "bytes=262000-530000"})
    assert r.status_code == 206 and r.content == whole[262000:530001]


def test_thumbnail_on_upload_and_update(server, alice):
    r = alice.post("/api/v2/media", files={
        "file": ("big.png", image_bytes("PNG", size=(800, 600)), "image/png"),
        "thumbnail": ("t.png", image_bytes("PNG", size=(100, 50), color=(0, 0, 255)), "image/png")})
    assert r.status_code == 200, r.text
    m = r.json()
    assert (m["meta"]["small"]["width"], m["meta"]["small"]["height"]) == (100, 50)
    assert m["meta"]["original"]["width"] == 800
    with Image.open(io.BytesIO(fetch(server, m["preview_url"]).content)) as img:
        assert img.size == (100, 50)
    noisy = io.BytesIO()
    Image.effect_noise((1000, 1000), 64).convert("RGB").save(noisy, "PNG")
    assert len(noisy.getvalue()) > 512 * 1024  # over the default body cap: PUT takes the media cap
    r = alice.put(f"/api/v1/media/{m['id']}", files={
        "thumbnail": ("t2.png", noisy.getvalue(), "image/png")},
        data={"description": "with a new preview"})
    assert r.status_code == 200, r.text
    u = r.json()
    assert u["description"] == "with a new preview"
    assert u["preview_url"] != m["preview_url"] and u["url"] == m["url"]
    assert (u["meta"]["small"]["width"], u["meta"]["small"]["height"]) == (640, 640)
    assert u["meta"]["original"]["width"] == 800
    assert_error(fetch(server, m["preview_url"]), 404)  # the old preview is gone
    assert fetch(server, u["preview_url"]).status_code == 200
    # A bad thumbnail changes nothing.
    r = alice.put(f"/api/v1/media/{m['id']}", files={"thumbnail": ("x.png", b"nope", "image/png")},
                  data={"description": "should not stick"})
    assert_error(r, 422)
    assert alice.get(f"/api/v1/media/{m['id']}").json()["description"] == "with a new preview"


def test_front_page_shows_pictures_with_alt_text(server, alice):
    m = uploaded(alice, image_bytes("PNG"), description='a "quoted" <cat>')
    alice.status("look", media_ids=[m["id"]])
    html = anon_get(server, "/").text
    # The web UI links this host's files by path (same file as preview_url).
    preview_path = urllib.parse.urlsplit(m["preview_url"]).path
    assert preview_path.startswith("/system/media/"), m["preview_url"]
    assert f'src="{preview_path}"' in html
    assert 'alt="a &quot;quoted&quot; &lt;cat&gt;"' in html
    assert "<cat>" not in html


def test_upload_routes_refuse_strangers_before_reading_the_body(server, alice):
    # Anonymous and invalid-token callers get their 401 at once: the request
    # declares a 4 MiB body and sends none of it, so a server that read the body
    # first would not answer within the wait.
    import socket
    for auth in ("", "Authorization: Bearer nope\r\n"):
        for method, path in (("POST", "/api/v2/media"), ("PATCH", "/api/v1/accounts/update_credentials")):
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
                sock.sendall((f"{method} {path} HTTP/1.1\r\nHost: x\r\n{auth}"
                              "Content-Type: application/json\r\nContent-Length: 4194304\r\n\r\n").encode())
                sock.settimeout(3)
                first = sock.recv(4096)
            assert first.startswith(b"HTTP/1.1 401"), (method, path, auth, first[:200])


def test_upload_routes_keep_the_ordinary_cap_for_json_and_forms(server, alice):
    # Only files may be large: a 1 MiB JSON or form body to an upload route is a 413.
    token = alice.token
    big_json = b'{"display_name": "' + b"x" * (1024 * 1024) + b'"}'
    got, _, raw = raw_http(server, "PATCH", "/api/v1/accounts/update_credentials",
                           {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}, big_json)
    assert got == 413, raw[:200]
    got, _, raw = raw_http(server, "PATCH", "/api/v1/accounts/update_credentials",
                           {"Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Bearer {token}"},
                           b"note=" + b"y" * (1024 * 1024))
    assert got == 413, raw[:200]
    # Nothing changed.
    assert alice.get("/api/v1/accounts/verify_credentials").json()["display_name"] != "x" * 10
