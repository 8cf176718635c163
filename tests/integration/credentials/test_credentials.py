"""The credential chain end to end: creds_probe (tether's chain on a libev loop) under
controlled environments, against fake STS, ECS and IMDS servers (fakes.py) on 127.0.0.1.

Every case gets its own HOME in a temporary directory and an environment built from
scratch (nothing AWS_* leaks in from the caller; instance metadata is disabled unless the
case serves it). Fakes are started per case and stopped by PID. A case fails on a wrong
provider, key, secret or token (compared by SHA-256), on any check a fake recorded, on an
unexpected fake hit count, or on a probe that does not exit cleanly (under ASan that
includes leaks). The last case greps everything the probe printed, at debug level, for
every secret it handled.

  test_credentials.py --probe PATH [-k SUBSTRING] [--ini-cases N]
"""
import argparse
import datetime
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

import botocore.configloader
import botocore.exceptions

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = os.environ.get("TETHER_PYTHON", sys.executable)
ARGS = None
SECRETS_SEEN = []  # every secret a case handled, for the final log grep
LOGS = []  # everything every probe printed


def sha(s):
    return hashlib.sha256(s.encode()).hexdigest()


def iso_in(seconds):
    t = datetime.datetime.utcnow() + datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class Fake:
    def __init__(self, kind, *args):
        self.proc = subprocess.Popen(
            [PYTHON, os.path.join(HERE, "fakes.py"), kind] + [str(a) for a in args],
            stdout=subprocess.PIPE, text=True,
        )
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError("fake %s did not start" % kind)
        self.port = json.loads(line)["port"]
        self.url = "http://127.0.0.1:%d" % self.port

    def state(self):
        with urllib.request.urlopen(self.url + "/__state", timeout=5) as r:
            return json.loads(r.read())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()


class Case:
    def __init__(self, name):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="tether-creds-")
        self.home = os.path.join(self.dir, "home")
        os.makedirs(os.path.join(self.home, ".aws"))
        self.fakes = []
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self.home,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.path.join(self.dir, "config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.dir, "credentials"),
        }
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                self.env[k] = os.environ[k]

    def fake(self, kind, *args):
        f = Fake(kind, *args)
        self.fakes.append(f)
        return f

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def close(self):
        for f in self.fakes:
            f.stop()
        shutil.rmtree(self.dir)

    def probe(self, *args, expect_status=0, debug=True, timeout=30):
        cmd = [ARGS.probe] + (["--debug"] if debug else []) + [str(a) for a in args]
        started = time.monotonic()
        p = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=timeout)
        self.elapsed = time.monotonic() - started
        LOGS.append(p.stdout + p.stderr)
        self.stderr = p.stderr
        if p.returncode != expect_status:
            raise AssertionError(
                "probe exited %d, expected %d\nstdout:\n%s\nstderr:\n%s"
                % (p.returncode, expect_status, p.stdout, p.stderr[-4000:])
            )
        return parse_lines(p.stdout)


def parse_lines(out):
    lines = []
    for line in out.splitlines():
        tag, _, rest = line.partition(" ")
        fields = {"tag": tag}
        if tag == "error":
            m = re.match(r"code=(\S+) http=(\S+) type=(\S+) message=(.*)", rest)
            fields.update(code=m.group(1), http=int(m.group(2)), type=m.group(3),
                          message=m.group(4))
        else:
            for kv in rest.split(" "):
                if "=" in kv:
                    k, v = kv.split("=", 1)
                    fields[k] = v
        lines.append(fields)
    return lines


def only(lines, tag):
    found = [l for l in lines if l["tag"] == tag]
    assert len(found) == 1, "expected one %r line in %r" % (tag, lines)
    return found[0]


def check_creds(line, provider, akid, secret, token, expiration=None):
    SECRETS_SEEN.append(secret)
    if token:
        SECRETS_SEEN.append(token)
    assert line["provider"] == provider, "provider %r, expected %r" % (line["provider"], provider)
    assert line["akid"] == akid, "akid %r, expected %r" % (line["akid"], akid)
    assert line["secret_sha256"] == sha(secret), "secret differs"
    assert line["token_sha256"] == (sha(token) if token else "none"), "token differs"
    if expiration is not None:
        assert int(line["expiration"]) == expiration, "expiration %s, expected %s" % (
            line["expiration"], expiration)


def epoch(iso_time):
    return int(datetime.datetime.strptime(iso_time, "%Y-%m-%dT%H:%M:%SZ")
               .replace(tzinfo=datetime.timezone.utc).timestamp())


def check_issued(line, provider, cred):
    exp = epoch(cred["expiration"])
    check_creds(line, provider, cred["akid"], cred["secret"], cred["token"], exp)


def check_error(lines, code, needle):
    e = only(lines, "error")
    assert e["code"] == code, "error code %r, expected %r: %s" % (e["code"], code, e["message"])
    assert needle in e["message"], "%r not in %r" % (needle, e["message"])
    return e


def fake_clean(fake, hits=None):
    st = fake.state()
    assert not st["errors"], "fake recorded failed checks: %r" % st["errors"]
    if hits is not None:
        assert st["hits"] == hits, "fake hits %d, expected %d" % (st["hits"], hits)
    for c in st["issued"]:
        SECRETS_SEEN.extend([c["secret"], c["token"]])
    if st.get("imds_token"):
        SECRETS_SEEN.append(st["imds_token"])
    return st


STATIC = ("AKIAENVEXAMPLE000001", "envSecret/Key+0001xxxxxxxxxxxxxxxxxxxxxx")
FILEKEY = ("AKIAFILEEXAMPLE00002", "fileSecret/Key+0002xxxxxxxxxxxxxxxxxxxxx")
CONFKEY = ("AKIACONFEXAMPLE00003", "confSecret/Key+0003xxxxxxxxxxxxxxxxxxxxx")
SRCKEY = ("AKIASOURCEEXAMPLE004", "srcSecret/Key+0004xxxxxxxxxxxxxxxxxxxxxx")
ROLE = "arn:aws:iam::123456789012:role/tether-deployer"
ROLE2 = "arn:aws:iam::123456789012:role/tether-second"

# The cases.


def case_env(c):
    c.env.update(AWS_ACCESS_KEY_ID=STATIC[0], AWS_SECRET_ACCESS_KEY=STATIC[1])
    check_creds(only(c.probe(), "creds"), "env", STATIC[0], STATIC[1], None, 0)
    c.env["AWS_SESSION_TOKEN"] = "IQoJb3JpZ2luX2VjEnvSessionToken0001"
    c.env["AWS_CREDENTIAL_EXPIRATION"] = iso_in(7200)
    exp = int(datetime.datetime.strptime(c.env["AWS_CREDENTIAL_EXPIRATION"],
                                         "%Y-%m-%dT%H:%M:%SZ")
              .replace(tzinfo=datetime.timezone.utc).timestamp())
    check_creds(only(c.probe(), "creds"), "env", STATIC[0], STATIC[1],
                c.env["AWS_SESSION_TOKEN"], exp)
    # the legacy name still works when the modern one is absent
    del c.env["AWS_SESSION_TOKEN"]
    c.env["AWS_SECURITY_TOKEN"] = "LegacySecurityToken0002"
    check_creds(only(c.probe(), "creds"), "env", STATIC[0], STATIC[1],
                c.env["AWS_SECURITY_TOKEN"])


def case_env_partial(c):
    c.env["AWS_ACCESS_KEY_ID"] = STATIC[0]
    check_error(c.probe(expect_status=2), "invalid",
                "partial credentials in the environment: AWS_ACCESS_KEY_ID is set but "
                "AWS_SECRET_ACCESS_KEY is not")
    del c.env["AWS_ACCESS_KEY_ID"]
    c.env["AWS_SECRET_ACCESS_KEY"] = STATIC[1]
    check_error(c.probe(expect_status=2), "invalid", "AWS_SECRET_ACCESS_KEY is set but")


def case_env_expired(c):
    c.env.update(AWS_ACCESS_KEY_ID=STATIC[0], AWS_SECRET_ACCESS_KEY=STATIC[1],
                 AWS_SESSION_TOKEN="tok", AWS_CREDENTIAL_EXPIRATION=iso_in(-60))
    check_error(c.probe(expect_status=2), "auth", "expired at")


def case_shared_credentials_file(c):
    c.write("credentials", "[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
            "aws_session_token = FileSessionToken0001\n"
            "[other]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = x\n" % FILEKEY)
    check_creds(only(c.probe(), "creds"), "shared-credentials-file", FILEKEY[0], FILEKEY[1],
                "FileSessionToken0001", 0)
    # a missing or malformed file
    c.write("credentials", "[default]\naws_access_key_id = %s\n" % FILEKEY[0])
    check_error(c.probe(expect_status=2), "invalid",
                "aws_access_key_id without aws_secret_access_key")
    c.write("credentials", "[default]\naws_access_key_id = %s\nnonsense line\n" % FILEKEY[0])
    check_error(c.probe(expect_status=2), "invalid",
                "%s:3: expected \"key = value\"" % c.env["AWS_SHARED_CREDENTIALS_FILE"])
    os.unlink(c.env["AWS_SHARED_CREDENTIALS_FILE"])
    check_error(c.probe(expect_status=2), "auth", "no credentials found")
    # the default location under HOME
    del c.env["AWS_SHARED_CREDENTIALS_FILE"]
    with open(os.path.join(c.home, ".aws", "credentials"), "w") as f:
        f.write("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % FILEKEY)
    check_creds(only(c.probe(), "creds"), "shared-credentials-file", FILEKEY[0], FILEKEY[1],
                None)


def case_config_file_profile(c):
    c.write("config", "[default]\nregion = us-east-1\n"
            "[profile dev]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % CONFKEY)
    c.env["AWS_PROFILE"] = "dev"
    check_creds(only(c.probe(), "creds"), "config-file", CONFKEY[0], CONFKEY[1], None)
    # AWS_DEFAULT_PROFILE is the fallback name
    del c.env["AWS_PROFILE"]
    c.env["AWS_DEFAULT_PROFILE"] = "dev"
    check_creds(only(c.probe(), "creds"), "config-file", CONFKEY[0], CONFKEY[1], None)
    del c.env["AWS_DEFAULT_PROFILE"]
    # an explicit profile disables the environment provider (botocore)
    c.env.update(AWS_ACCESS_KEY_ID=STATIC[0], AWS_SECRET_ACCESS_KEY=STATIC[1])
    check_creds(only(c.probe("--profile", "dev"), "creds"), "config-file", CONFKEY[0],
                CONFKEY[1], None)
    # ... but AWS_PROFILE does not
    c.env["AWS_PROFILE"] = "dev"
    check_creds(only(c.probe(), "creds"), "env", STATIC[0], STATIC[1], None)
    # a named profile must exist
    c.env["AWS_PROFILE"] = "nope"
    check_error(c.probe(expect_status=2), "invalid", "profile \"nope\" not found in")
    check_error(c.probe("--profile", "nope", expect_status=2), "invalid", "profile \"nope\"")


def sts_fake(c, *extra):
    return c.fake("sts", "--region", "us-east-1", *extra)


def case_assume_role_source_profile(c):
    sts = sts_fake(c, "--known", "%s:%s" % SRCKEY)
    c.env["AWS_ENDPOINT_URL_STS"] = sts.url
    c.write("credentials", "[src]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % SRCKEY)
    c.write("config", "[profile deploy]\nrole_arn = %s\nsource_profile = src\n"
            "role_session_name = tether-test\nexternal_id = ext-id:42/x\n"
            "duration_seconds = 1800\n" % ROLE)
    line = only(c.probe("--profile", "deploy"), "creds")
    st = fake_clean(sts, hits=1)
    check_issued(line, "assume-role", st["issued"][0])
    req = st["requests"][0]
    assert req == {"Action": "AssumeRole", "RoleArn": ROLE, "RoleSessionName": "tether-test",
                   "DurationSeconds": "1800", "ExternalId": "ext-id:42/x",
                   "signer": SRCKEY[0]}, req
    # the default session name is botocore's
    c.write("config", "[profile deploy]\nrole_arn = %s\nsource_profile = src\n" % ROLE)
    line = only(c.probe("--profile", "deploy"), "creds")
    st = fake_clean(sts, hits=2)
    check_issued(line, "assume-role", st["issued"][1])
    name = st["requests"][1]["RoleSessionName"]
    assert re.fullmatch(r"botocore-session-\d{10}", name), name
    assert abs(int(name.rsplit("-", 1)[1]) - time.time()) < 60
    # a regional STS endpoint signs for its region (the fake checks the region)
    sts_eu = c.fake("sts", "--region", "eu-west-1", "--known", "%s:%s" % SRCKEY)
    c.env["AWS_ENDPOINT_URL_STS"] = sts_eu.url
    c.env["AWS_REGION"] = "eu-west-1"
    line = only(c.probe("--profile", "deploy"), "creds")
    st = fake_clean(sts_eu, hits=1)
    check_issued(line, "assume-role", st["issued"][0])
    # STS says no
    deny = sts_fake(c, "--known", "%s:%s" % SRCKEY, "--deny")
    c.env["AWS_ENDPOINT_URL_STS"] = deny.url
    del c.env["AWS_REGION"]
    e = check_error(c.probe("--profile", "deploy", expect_status=2), "auth",
                    "HTTP 403 AccessDenied: not allowed & never will be")
    assert e["http"] == 403 and e["type"] == "AccessDenied", e
    fake_clean(deny, hits=1)


def case_assume_role_chain(c):
    sts = sts_fake(c, "--known", "%s:%s" % SRCKEY)
    c.env["AWS_ENDPOINT_URL_STS"] = sts.url
    c.write("credentials", "[base]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % SRCKEY)
    c.write("config", "[profile first]\nrole_arn = %s\nsource_profile = base\n"
            "[profile second]\nrole_arn = %s\nsource_profile = first\n" % (ROLE, ROLE2))
    c.env["AWS_PROFILE"] = "second"
    line = only(c.probe(), "creds")
    st = fake_clean(sts, hits=2)
    # the second AssumeRole was signed with what the first returned (token included)
    assert [r["RoleArn"] for r in st["requests"]] == [ROLE, ROLE2]
    assert st["requests"][0]["signer"] == SRCKEY[0]
    assert st["requests"][1]["signer"] == st["issued"][0]["akid"]
    check_issued(line, "assume-role", st["issued"][1])
    # a profile may take fixed keys from its own section
    c.write("config", "[profile self]\nrole_arn = %s\nsource_profile = self\n"
            "aws_access_key_id = %s\naws_secret_access_key = %s\n" % ((ROLE,) + SRCKEY))
    c.env["AWS_PROFILE"] = "self"
    only(c.probe(), "creds")
    st = fake_clean(sts, hits=3)
    assert st["requests"][2]["signer"] == SRCKEY[0]
    # loops and broken references are configuration errors, found before any request
    c.write("config", "[profile a]\nrole_arn = %s\nsource_profile = b\n"
            "[profile b]\nrole_arn = %s\nsource_profile = a\n" % (ROLE, ROLE2))
    c.env["AWS_PROFILE"] = "a"
    check_error(c.probe(expect_status=2), "invalid", "infinite loop in the source_profile chain")
    c.write("config", "[profile a]\nrole_arn = %s\nsource_profile = ghost\n" % ROLE)
    check_error(c.probe(expect_status=2), "invalid",
                "the source_profile \"ghost\" referenced in profile \"a\" does not exist")
    c.write("config", "[profile a]\nrole_arn = %s\nsource_profile = b\n[profile b]\nregion = x\n"
            % ROLE)
    check_error(c.probe(expect_status=2), "invalid", "has no credentials")
    c.write("config", "[profile a]\nrole_arn = %s\n" % ROLE)
    check_error(c.probe(expect_status=2), "invalid", "neither source_profile nor credential_source")
    c.write("config", "[profile a]\nrole_arn = %s\nsource_profile = base\ncredential_source = "
            "Environment\n" % ROLE)
    check_error(c.probe(expect_status=2), "invalid", "both source_profile and credential_source")
    fake_clean(sts, hits=3)


def case_assume_role_credential_source(c):
    sts = sts_fake(c, "--known", "%s:%s:EnvSourceToken01" % STATIC)
    c.env["AWS_ENDPOINT_URL_STS"] = sts.url
    c.env.update(AWS_ACCESS_KEY_ID=STATIC[0], AWS_SECRET_ACCESS_KEY=STATIC[1],
                 AWS_SESSION_TOKEN="EnvSourceToken01")
    c.write("config", "[profile viaenv]\nrole_arn = %s\ncredential_source = Environment\n" % ROLE)
    line = only(c.probe("--profile", "viaenv"), "creds")
    st = fake_clean(sts, hits=1)
    assert st["requests"][0]["signer"] == STATIC[0]
    check_issued(line, "assume-role", st["issued"][0])
    c.write("config", "[profile viaenv]\nrole_arn = %s\ncredential_source = Magic\n" % ROLE)
    check_error(c.probe("--profile", "viaenv", expect_status=2), "invalid",
                "credential_source \"Magic\" is not valid")


def case_web_identity(c):
    token_file = c.write("token", "eyJhbGciOiJSUzI1NiJ9.webIdentityTokenOne.sig")
    sts = sts_fake(c, "--token-file", token_file)
    c.env.update(AWS_WEB_IDENTITY_TOKEN_FILE=token_file, AWS_ROLE_ARN=ROLE,
                 AWS_ROLE_SESSION_NAME="wi-session", AWS_ENDPOINT_URL=sts.url)
    line = only(c.probe(), "creds")
    st = fake_clean(sts, hits=1)
    check_issued(line, "web-identity", st["issued"][0])
    assert st["requests"][0]["Action"] == "AssumeRoleWithWebIdentity"
    assert st["requests"][0]["RoleSessionName"] == "wi-session"
    assert st["tokens_seen"] == ["eyJhbGciOiJSUzI1NiJ9.webIdentityTokenOne.sig"]
    SECRETS_SEEN.append(st["tokens_seen"][0])
    # from profile keys
    for k in ("AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME"):
        del c.env[k]
    c.write("config", "[profile wi]\nweb_identity_token_file = %s\nrole_arn = %s\n"
            % (token_file, ROLE))
    line = only(c.probe("--profile", "wi"), "creds")
    st = fake_clean(sts, hits=2)
    check_issued(line, "web-identity", st["issued"][1])
    assert st["requests"][1]["RoleSessionName"].startswith("botocore-session-")
    # no role ARN anywhere
    c.write("config", "[profile wi]\nweb_identity_token_file = %s\n" % token_file)
    check_error(c.probe("--profile", "wi", expect_status=2), "invalid", "no role ARN")
    # an unreadable token file fails the resolution
    c.write("config", "[profile wi]\nweb_identity_token_file = %s/missing\nrole_arn = %s\n"
            % (c.dir, ROLE))
    check_error(c.probe("--profile", "wi", expect_status=2), "auth",
                "web identity token file %s/missing: No such file" % c.dir)


def case_web_identity_refresh_rereads_token(c):
    token_file = c.write("token", "token-generation-one.aaaa.bbbb")
    sts = sts_fake(c, "--token-file", token_file, "--lifetime", 15 * 60 + 2)
    c.env.update(AWS_WEB_IDENTITY_TOKEN_FILE=token_file, AWS_ROLE_ARN=ROLE,
                 AWS_ENDPOINT_URL_STS=sts.url)
    cmd = [ARGS.probe, "--debug", "--refreshes", "1", "--timeout", "20"]
    p = subprocess.Popen(cmd, env=c.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    first = p.stdout.readline()
    assert first.startswith("creds "), first
    # the agent rotates the token before the refresh
    with open(token_file + ".new", "w") as f:
        f.write("token-generation-two.cccc.dddd")
    os.rename(token_file + ".new", token_file)
    out, err = p.communicate(timeout=30)
    LOGS.append(first + out + err)
    assert p.returncode == 0, out + err
    st = fake_clean(sts, hits=2)
    assert st["tokens_seen"] == ["token-generation-one.aaaa.bbbb",
                                 "token-generation-two.cccc.dddd"], st["tokens_seen"]
    SECRETS_SEEN.extend(st["tokens_seen"])
    lines = parse_lines(first + out)
    check_issued(only(lines, "creds"), "web-identity", st["issued"][0])
    check_issued(only(lines, "refresh"), "web-identity", st["issued"][1])


def case_container(c):
    ecs = c.fake("ecs", "--auth", "Bearer ecs-token-value-0001")
    c.env.update(AWS_CONTAINER_CREDENTIALS_FULL_URI=ecs.url + "/v2/credentials/abc?x=1",
                 AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer ecs-token-value-0001")
    SECRETS_SEEN.append("ecs-token-value-0001")
    line = only(c.probe(), "creds")
    st = fake_clean(ecs, hits=1)
    check_issued(line, "container", st["issued"][0])
    assert st["requests"][0]["path"] == "/v2/credentials/abc?x=1"
    # a rejected token is an error after three attempts, one second apart
    c.env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "Bearer wrong-token"
    check_error(c.probe(expect_status=2), "auth", "HTTP 401")
    assert 1.9 < c.elapsed, c.elapsed
    st = ecs.state()
    assert st["hits"] == 4, st["hits"]
    # a host that is not allowed is refused before any request
    c.env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://169.254.169.254/creds"
    check_error(c.probe(expect_status=2), "invalid", "is not allowed")
    c.env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "Bearer x\r\nInjected: 1"
    c.env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = ecs.url + "/creds"
    check_error(c.probe(expect_status=2), "invalid", "contains a CR or LF")


def case_container_token_file_and_retry(c):
    tok = c.write("ecs-token", "ecs-file-token-0002")
    SECRETS_SEEN.append("ecs-file-token-0002")
    ecs = c.fake("ecs", "--auth-file", tok, "--fail-first", 1)
    # the file wins over the variable
    c.env.update(AWS_CONTAINER_CREDENTIALS_FULL_URI="http://localhost:%d/creds" % ecs.port,
                 AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=tok,
                 AWS_CONTAINER_AUTHORIZATION_TOKEN="ignored-env-token")
    line = only(c.probe(), "creds")
    st = fake_clean(ecs, hits=2)
    check_issued(line, "container", st["issued"][0])
    assert 0.9 < c.elapsed, "the retry came %.2f s after the first attempt" % c.elapsed
    # a token file with a line break is refused
    c.write("ecs-token", "ecs-file-token-0002\n")
    check_error(c.probe(expect_status=2), "invalid", "the token contains a CR or LF")


def imds_env(c, fake):
    del c.env["AWS_EC2_METADATA_DISABLED"]
    c.env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = fake.url + "/"


def case_imds_v2(c):
    imds = c.fake("imds")
    imds_env(c, imds)
    line = only(c.probe(), "creds")
    st = fake_clean(imds, hits=3)
    check_issued(line, "imds", st["issued"][0])
    reqs = st["requests"]
    assert [(r["method"], r["path"]) for r in reqs] == [
        ("PUT", "/latest/api/token"),
        ("GET", "/latest/meta-data/iam/security-credentials/"),
        ("GET", "/latest/meta-data/iam/security-credentials/tether-node")], reqs
    assert reqs[0]["ttl"] == "21600"
    assert reqs[1]["token"] == st["imds_token"] and reqs[2]["token"] == st["imds_token"]
    # a response without one of the four fields is no credentials
    bad = c.fake("imds", "--no-token-field")
    c.env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = bad.url
    check_error(c.probe(expect_status=2), "auth", "has no credentials")


def case_imds_v1_fallback(c):
    for status in (403, 404, 405):
        imds = c.fake("imds", "--token-status", status)
        imds_env(c, imds)
        line = only(c.probe(), "creds")
        st = fake_clean(imds, hits=3)
        check_issued(line, "imds", st["issued"][0])
        assert [r.get("token") for r in st["requests"][1:]] == [None, None]
        c.env["AWS_EC2_METADATA_DISABLED"] = "true"
    # 400 on the token request is an error, not a fallback
    imds = c.fake("imds", "--token-status", 400)
    imds_env(c, imds)
    check_error(c.probe(expect_status=2), "auth", "the token request was refused (HTTP 400)")
    fake_clean(imds, hits=1)


def case_imds_token_timeout(c):
    imds = c.fake("imds", "--token-hang", 5)
    imds_env(c, imds)
    c.env["AWS_METADATA_SERVICE_TIMEOUT"] = "1"
    line = only(c.probe(), "creds")
    st = fake_clean(imds)
    check_issued(line, "imds", st["issued"][0])
    assert [r.get("token") for r in st["requests"] if r["method"] == "GET"] == [None, None]
    assert 0.9 < c.elapsed < 4.5, c.elapsed


def case_imds_disabled(c):
    imds = c.fake("imds")
    imds_env(c, imds)
    c.env["AWS_EC2_METADATA_DISABLED"] = "TRUE"
    check_error(c.probe(expect_status=2), "auth", "no credentials found")
    fake_clean(imds, hits=0)


def case_imds_static_stability(c):
    # credentials that expire inside the refresh window get a later local expiry
    imds = c.fake("imds", "--lifetime", 15 * 60 + 2)
    imds_env(c, imds)
    line = only(c.probe(), "creds")
    st = fake_clean(imds, hits=3)
    issued = int(datetime.datetime.strptime(st["issued"][0]["expiration"], "%Y-%m-%dT%H:%M:%SZ")
                 .replace(tzinfo=datetime.timezone.utc).timestamp())
    got = int(line["expiration"])
    now = time.time()
    assert got > issued, (got, issued)
    assert now + 15 * 60 + 120 - 5 <= got <= now + 15 * 60 + 600 + 5, got - now
    assert "static stability" in c.stderr
    # Credentials that have already expired when IMDS hands them out (an IMDS outage) are
    # extended the same way, as InstanceMetadataFetcher._evaluate_expiration does, rather
    # than refused.
    stale = c.fake("imds", "--lifetime", -120)
    c.env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = stale.url
    line = only(c.probe(), "creds")
    st = fake_clean(stale, hits=3)
    check_creds(line, "imds", st["issued"][0]["akid"], st["issued"][0]["secret"],
                st["issued"][0]["token"])
    got = int(line["expiration"])
    now = time.time()
    assert now + 15 * 60 + 120 - 5 <= got <= now + 15 * 60 + 600 + 5, got - now


def case_precedence(c):
    imds = c.fake("imds")
    ecs = c.fake("ecs")
    imds_env(c, imds)
    c.write("credentials", "[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
            % FILEKEY)
    c.write("config", "[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % CONFKEY)
    c.env.update(AWS_ACCESS_KEY_ID=STATIC[0], AWS_SECRET_ACCESS_KEY=STATIC[1],
                 AWS_CONTAINER_CREDENTIALS_FULL_URI=ecs.url + "/creds")
    check_creds(only(c.probe(), "creds"), "env", STATIC[0], STATIC[1], None)
    del c.env["AWS_ACCESS_KEY_ID"], c.env["AWS_SECRET_ACCESS_KEY"]
    check_creds(only(c.probe(), "creds"), "shared-credentials-file", FILEKEY[0], FILEKEY[1], None)
    os.unlink(c.env["AWS_SHARED_CREDENTIALS_FILE"])
    check_creds(only(c.probe(), "creds"), "config-file", CONFKEY[0], CONFKEY[1], None)
    os.unlink(c.env["AWS_CONFIG_FILE"])
    assert only(c.probe(), "creds")["provider"] == "container"
    fake_clean(imds, hits=0)
    del c.env["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
    assert only(c.probe(), "creds")["provider"] == "imds"
    fake_clean(imds, hits=3)
    fake_clean(ecs, hits=1)


def case_refresh_before_expiry(c):
    sts = sts_fake(c, "--known", "%s:%s" % SRCKEY, "--lifetime", 15 * 60 + 2)
    c.env["AWS_ENDPOINT_URL_STS"] = sts.url
    c.write("credentials", "[src]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % SRCKEY)
    c.write("config", "[profile r]\nrole_arn = %s\nsource_profile = src\n" % ROLE)
    lines = c.probe("--profile", "r", "--refreshes", "2")
    st = fake_clean(sts, hits=3)
    check_issued(only(lines, "creds"), "assume-role", st["issued"][0])
    refreshes = [l for l in lines if l["tag"] == "refresh"]
    assert len(refreshes) == 2, lines
    check_issued(refreshes[0], "assume-role", st["issued"][1])
    check_issued(refreshes[1], "assume-role", st["issued"][2])
    # each refresh starts when the previous credentials enter the 15-minute window (the
    # fake's expirations are whole seconds), driven by the timer alone: the probe only peeks
    for prev, new in zip(st["issued"], st["issued"][1:]):
        window_start = epoch(prev["expiration"]) - 15 * 60
        assert window_start - 0.05 <= new["issued_at"] <= window_start + 1.5, (
            new["issued_at"] - window_start)
    assert 1.9 < c.elapsed < 12, c.elapsed
    assert "refreshed provider=assume-role" in c.stderr
    # a pending refresh does not keep a finished command's loop running
    lines = c.probe("--profile", "r", "--natural-exit", "--timeout", "8")
    assert only(lines, "ev_run=returned") and only(lines, "creds")
    assert c.elapsed < 10, c.elapsed
    fake_clean(sts, hits=4)
    # a waiter answered while a refresh is in flight may tear everything down, the
    # credentials and then their HTTP engine, from inside its callback (the refresh starts
    # within 1 s and its request is in flight for the 2 s container timeout)
    ecs = c.fake("ecs", "--lifetime", 15 * 60 + 1, "--slow-after", 1, "--slow", 4)
    c.env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = ecs.url + "/creds"
    os.unlink(c.env["AWS_CONFIG_FILE"])
    os.unlink(c.env["AWS_SHARED_CREDENTIALS_FILE"])
    lines = c.probe("--wait", "1.5", "--free-all-in-get")
    st = fake_clean(ecs)
    assert st["hits"] == 2, st["hits"]  # the refresh was under way
    check_issued(only(lines, "final"), "container", st["issued"][0])
    # container credentials refresh the same way
    ecs = c.fake("ecs", "--lifetime", 15 * 60 + 2)
    c.env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = ecs.url + "/creds"
    lines = c.probe("--refreshes", "1")
    st = fake_clean(ecs, hits=2)
    check_issued(only(lines, "refresh"), "container", st["issued"][1])


def case_failed_refresh_keeps_credentials(c):
    sts = sts_fake(c, "--known", "%s:%s" % SRCKEY, "--lifetime", 15 * 60 + 2,
                   "--fail-after", 1)
    c.env["AWS_ENDPOINT_URL_STS"] = sts.url
    c.write("credentials", "[src]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % SRCKEY)
    c.write("config", "[profile r]\nrole_arn = %s\nsource_profile = src\n" % ROLE)
    lines = c.probe("--profile", "r", "--wait", "6")
    st = fake_clean(sts)
    assert st["hits"] >= 2, st["hits"]
    first = only(lines, "creds")
    check_issued(first, "assume-role", st["issued"][0])
    check_issued(only(lines, "final"), "assume-role", st["issued"][0])
    assert not [l for l in lines if l["tag"] == "refresh"], lines
    assert "refresh failed provider=assume-role" in c.stderr
    assert "HTTP 500 InternalFailure" in c.stderr
    assert "keeping credentials that expire at" in c.stderr


def case_mandatory_window(c):
    # Credentials that arrive with 10 min + 2 s left enter the mandatory window 2 s later:
    # credentials_peek() has nothing then. They were just fetched, so credentials_get() gets
    # them at once instead of refreshing in a loop (the next refresh is 30 s out).
    sts = sts_fake(c, "--known", "%s:%s" % SRCKEY, "--lifetime", 10 * 60 + 2)
    c.env["AWS_ENDPOINT_URL_STS"] = sts.url
    c.write("credentials", "[src]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % SRCKEY)
    c.write("config", "[profile r]\nrole_arn = %s\nsource_profile = src\n" % ROLE)
    lines = c.probe("--profile", "r", "--wait", "3")
    st = fake_clean(sts, hits=1)
    assert only(lines, "peek=null")
    check_issued(only(lines, "creds"), "assume-role", st["issued"][0])
    check_issued(only(lines, "final"), "assume-role", st["issued"][0])


def case_concurrent_waiters_share_one_fetch(c):
    sts = sts_fake(c, "--known", "%s:%s" % SRCKEY)
    c.env["AWS_ENDPOINT_URL_STS"] = sts.url
    c.write("credentials", "[src]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % SRCKEY)
    c.write("config", "[profile r]\nrole_arn = %s\nsource_profile = src\n" % ROLE)
    lines = c.probe("--profile", "r", "--concurrent", "8", "--cancel")
    assert only(lines, "answered=8")
    st = fake_clean(sts, hits=1)
    check_issued(only(lines, "creds"), "assume-role", st["issued"][0])
    # freeing the object from inside a callback drops the other waiters safely
    lines = c.probe("--profile", "r", "--concurrent", "4", "--free-in-callback")
    st = fake_clean(sts, hits=2)
    check_issued(only(lines, "creds"), "assume-role", st["issued"][1])


def case_no_credentials(c):
    e = check_error(c.probe(expect_status=2), "auth", "no credentials found: looked in")
    assert "instance metadata (disabled)" in e["message"]


def case_log_has_no_secrets(c):
    """Runs last: everything every probe printed, all at debug level."""
    text = "".join(LOGS)
    assert "debug credentials:" in text, "the probes did not log at debug level"
    leaked = sorted({s for s in SECRETS_SEEN if s and s in text})
    assert not leaked, "%d secrets in the probe output, e.g. %r..." % (
        len(leaked), [s[:8] for s in leaked[:5]])
    assert len(set(SECRETS_SEEN)) > 40, len(set(SECRETS_SEEN))


# The shared-file parser against botocore's configloader.


def random_ini(rng):
    """Mostly well-formed files with every construct the parser knows, some broken ones."""
    names = ["default", "profile dev", "profile 'a b'", "services s", "x", "DEFAULT",
             "profile  dev", "sso-session s", "a]b", " sp ", "profile \"q\"", "profile p%d",
             "s%d"]
    keys = ["region", "Region", "aws_access_key_id", "s3", "endpoint_url", "k", "key.with.dots",
            "services", "role_arn", "k%d"]
    out = []
    if rng.random() < 0.9:
        out.append("[%s]" % (rng.choice(names).replace("%d", str(rng.randint(0, 99)))))
    for _ in range(rng.randint(0, 12)):
        r = rng.random()
        ind = rng.choice(["", "", "", "", " ", "  ", "\t"])
        if r < 0.15:
            name = rng.choice(names).replace("%d", str(rng.randint(0, 99)))
            out.append(ind + "[%s]%s" % (name, rng.choice(["", "", " # c", " x"])))
        elif r < 0.25:
            out.append(ind + rng.choice(["#", ";"]) + " comment")
        elif r < 0.35:
            out.append(rng.choice(["", " ", "\t"]))
        elif r < 0.37:
            out.append(ind + rng.choice(["junk", "=v", "[unclosed", "[]"]))
        else:
            delim = rng.choice([" = ", "=", ": ", " =", ":"])
            val = rng.choice(["us-east-1", "", "http://h:1/a=b", "v # not a comment",
                              " spaced ", "caf\u00e9", "x = y"])
            key = rng.choice(keys).replace("%d", str(rng.randint(0, 999)))
            out.append(ind + key + delim + val)
    nl = rng.choice(["\n", "\r\n", "\r"])
    return nl.join(out) + rng.choice(["", nl])


def ini_queries(parsed, extra_sections):
    qs = []
    for sect, opts in parsed.items():
        for k, v in opts.items():
            if isinstance(v, dict):
                qs.append((("s", sect, k), None))
                for sk, sv in v.items():
                    qs.append((("s", sect, k, sk), sv))
            else:
                qs.append((("s", sect, k), v))
        qs.append((("s", sect, "absent"), None))
    for s in extra_sections:
        if s not in parsed:
            qs.append((("s", s, "region"), None))
    profiles = botocore.configloader.build_profile_map(parsed)["profiles"]
    for name, opts in profiles.items():
        for k, v in opts.items():
            if not isinstance(v, dict):
                qs.append((("p", name, k), v))
    return qs


def case_ini_differential(c):
    rng = random.Random(20240601)
    fixed = [
        "[default]\nregion=us-east-1\n[profile dev]\ns3 =\n  addressing_style = path\n",
        "[a]\nk = 1\n  continued\n\n  more\nz = 2\n",
        "[DEFAULT]\nregion = d\n[a]\n[b]\nregion = b\n",
        "[default]\n[profile default]\nregion = later\n",
        "[a]\nk = 1\nK = 2\n",
        "k = v\n",
        "[a]\n  indented = 1\n  still = 2\n",
        "[a]\nx =\n  nested = 1\n  bad\n",
    ]
    cases = fixed + [random_ini(rng) for _ in range(ARGS.ini_cases)]
    agree_ok = agree_err = 0
    for i, text in enumerate(cases):
        path = c.write("ini%d" % i, "")
        with open(path, "w", newline="") as f:
            f.write(text)
        try:
            parsed = botocore.configloader.raw_config_parse(path)
            py_err = None
        except botocore.exceptions.ConfigParseError as e:
            parsed, py_err = None, str(e)
        queries = ini_queries(parsed, ["x", "default"]) if parsed is not None else []
        stdin = "".join("\x1f".join(q) + "\n" for q, _ in queries)
        p = subprocess.run([ARGS.probe, "--ini", path], input=stdin, capture_output=True,
                           text=True, env=c.env, timeout=30)
        assert p.returncode == 0, p.stderr
        out = [json.loads(l) for l in p.stdout.splitlines()]
        if py_err is not None:
            assert len(out) == 1 and isinstance(out[0], dict) and "error" in out[0], (
                "botocore refused %r (%s) but tether accepted it" % (text, py_err))
            assert out[0]["error"].startswith(path + ":"), out[0]
            agree_err += 1
            continue
        assert not (out and isinstance(out[0], dict)), (
            "tether refused %r: %s" % (text, out[0]))
        assert len(out) == len(queries), (text, out)
        for (q, want), got in zip(queries, out):
            assert got == want, "%r: query %r: tether %r, botocore %r" % (text, q, got, want)
        agree_ok += 1
    print("    ini differential: %d parsed alike, %d refused by both" % (agree_ok, agree_err))
    assert agree_ok > ARGS.ini_cases // 4 and agree_err > ARGS.ini_cases // 10, (
        agree_ok, agree_err)


CASES = [
    case_env, case_env_partial, case_env_expired, case_shared_credentials_file,
    case_config_file_profile, case_assume_role_source_profile, case_assume_role_chain,
    case_assume_role_credential_source, case_web_identity,
    case_web_identity_refresh_rereads_token, case_container,
    case_container_token_file_and_retry, case_imds_v2, case_imds_v1_fallback,
    case_imds_token_timeout, case_imds_disabled, case_imds_static_stability, case_precedence,
    case_refresh_before_expiry, case_failed_refresh_keeps_credentials,
    case_mandatory_window, case_concurrent_waiters_share_one_fetch, case_no_credentials, case_ini_differential,
    case_log_has_no_secrets,
]


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--probe", required=True)
    ap.add_argument("-k", default="")
    ap.add_argument("--ini-cases", type=int, default=400)
    ARGS = ap.parse_args()
    failed = []
    ran = 0
    for fn in CASES:
        name = fn.__name__[len("case_"):]
        if ARGS.k not in name:
            continue
        if fn is case_log_has_no_secrets and ARGS.k:
            continue
        ran += 1
        c = Case(name)
        started = time.monotonic()
        try:
            fn(c)
            print("ok   %s (%.1f s)" % (name, time.monotonic() - started), flush=True)
        except Exception:
            failed.append(name)
            print("FAIL %s\n%s" % (name, traceback.format_exc()), flush=True)
        finally:
            c.close()
    print("%d cases, %d failed%s" % (ran, len(failed), (": " + ", ".join(failed)) if failed else ""))
    return 1 if failed or ran == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
