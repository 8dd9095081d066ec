"""Drives svault with hvac, a widely used Vault client we did not write (Debian's python3-hvac).

Usage: python3 hvac_client.py <address> <root token>
Prints one JSON line {"steps": [...]} on success; exits 1 with the failing step on stderr.
"""

import base64
import json
import sys

import hvac
from hvac import exceptions

addr, root = sys.argv[1], sys.argv[2]
steps = []


def step(name, ok, detail=""):
    if not ok:
        sys.stderr.write(f"FAILED {name}: {detail}\n")
        sys.exit(1)
    steps.append(name)


def raises(name, exc, fn, text=None):
    try:
        fn()
    except exc as e:
        step(name, text is None or text in str(e), f"error text {str(e)!r} lacks {text!r}")
        return
    except Exception as e:  # noqa: BLE001 - the wrong kind of error is the failure reported
        step(name, False, f"raised {type(e).__name__}: {e}")
    step(name, False, "no error raised")


c = hvac.Client(url=addr, token=root)
step("authenticated", c.is_authenticated())
step("initialized and unsealed", c.sys.is_initialized() and not c.sys.is_sealed())

# KV v2: write, read, check-and-set, list
kv = c.secrets.kv.v2
kv.create_or_update_secret(path="hvac/app", secret={"password": "p1"}, mount_point="secret")
r = kv.read_secret_version(path="hvac/app", mount_point="secret")
step("kv read", r["data"]["data"] == {"password": "p1"}, r)
kv.create_or_update_secret(path="hvac/app", secret={"password": "p2"}, cas=1, mount_point="secret")
raises(
    "kv cas mismatch is InvalidRequest with Vault's text",
    exceptions.InvalidRequest,
    lambda: kv.create_or_update_secret(path="hvac/app", secret={"password": "p3"}, cas=1, mount_point="secret"),
    "check-and-set parameter did not match the current version",
)
keys = kv.list_secrets(path="hvac", mount_point="secret")["data"]["keys"]
step("kv list", keys == ["app"], keys)
raises("kv missing is InvalidPath", exceptions.InvalidPath, lambda: kv.read_secret_version(path="hvac/none", mount_point="secret"))

# Transit
c.sys.enable_secrets_engine(backend_type="transit")
c.secrets.transit.create_key(name="payments")
plain = base64.b64encode(b"4111 1111 1111 1111").decode()
ct = c.secrets.transit.encrypt_data(name="payments", plaintext=plain)["data"]["ciphertext"]
step("transit ciphertext", ct.startswith("vault:v1:"), ct)
back = c.secrets.transit.decrypt_data(name="payments", ciphertext=ct)["data"]["plaintext"]
step("transit round trip", back == plain, back)

# Vault ACL policies, HCL and (hvac's dict) JSON
c.sys.create_or_update_policy(name="hvac-read", policy='path "secret/data/hvac/*" {\n  capabilities = ["read"]\n}\n')
step("policy listed", "hvac-read" in c.sys.list_policies()["data"]["policies"])
step("policy read back", 'capabilities = ["read"]' in c.sys.read_policy("hvac-read")["data"]["rules"])
c.sys.create_or_update_policy(
    name="hvac-list", policy={"path": {"secret/metadata/hvac/*": {"capabilities": ["list"]}}}
)
raises(
    "unknown capability is InvalidRequest",
    exceptions.InvalidRequest,
    lambda: c.sys.create_or_update_policy(name="bad", policy='path "x" { capabilities = ["fly"] }'),
    'invalid capability "fly"',
)

# userpass login: the user's policies hold
c.sys.enable_auth_method(method_type="userpass")
c.auth.userpass.create_or_update_user(username="ann", password="pw-ann-123", policies=["hvac-read", "hvac-list"])
u = hvac.Client(url=addr)
login = u.auth.userpass.login(username="ann", password="pw-ann-123")
step("userpass login", login["auth"]["policies"] == ["default", "hvac-list", "hvac-read"], login["auth"])
step("user reads", u.secrets.kv.v2.read_secret_version(path="hvac/app", mount_point="secret")["data"]["data"] == {"password": "p2"})
raises(
    "user may not write: Forbidden",
    exceptions.Forbidden,
    lambda: u.secrets.kv.v2.create_or_update_secret(path="hvac/app", secret={"x": "y"}, mount_point="secret"),
)
raises(
    "wrong password: InvalidRequest",
    exceptions.InvalidRequest,
    lambda: hvac.Client(url=addr).auth.userpass.login(username="ann", password="wrong-pw-1"),
    "invalid",
)

# AppRole with a wrapped secret-id; the wrapping token unwraps once
c.sys.enable_auth_method(method_type="approle")
c.auth.approle.create_or_update_approle(role_name="ci", token_policies=["hvac-read"])
role_id = c.auth.approle.read_role_id(role_name="ci")["data"]["role_id"]
wrapped = c.write("auth/approle/role/ci/secret-id", wrap_ttl="2m")
step("secret-id wrapped", wrapped["data"] is None and wrapped["wrap_info"]["ttl"] == 120, wrapped)
w = hvac.Client(url=addr, token=wrapped["wrap_info"]["token"])
secret_id = w.sys.unwrap()["data"]["secret_id"]
raises("second unwrap: InvalidRequest", exceptions.InvalidRequest, lambda: w.sys.unwrap(), "wrapping token is not valid")
a = hvac.Client(url=addr)
a.auth.approle.login(role_id=role_id, secret_id=secret_id)
step("approle login", a.is_authenticated())

# A wrapped token, unwrapped by another client with the token in the body
t = c.auth.token.create(policies=["hvac-read"], ttl="1h", wrap_ttl="1m")
inner = c.sys.unwrap(token=t["wrap_info"]["token"])
step("wrapped token", inner["auth"]["accessor"] == t["wrap_info"]["wrapped_accessor"], inner)
me = hvac.Client(url=addr, token=inner["auth"]["client_token"]).lookup_token()
step("wrapped token works", sorted(me["data"]["policies"]) == ["default", "hvac-read"], me["data"])

print(json.dumps({"steps": steps}))
