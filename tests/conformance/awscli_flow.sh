#!/usr/bin/env bash
# A deployment flow with Debian's awscli (/usr/bin/aws, its own bundled botocore) against
# tether-emulator: image and zip functions, the V2 waiters, publish, aliases with weighted
# routing, invoke to a file, a refused delete of an aliased version, and --query checks.
# The CLI never reads the machine's configuration: credentials, region, config files,
# pager and HOME are all set here. The emulator is stopped by PID and must exit 0.
set -euo pipefail

: "${TETHER_EMULATOR:?TETHER_EMULATOR is not set (run through ctest)}"
PY=${TETHER_PYTHON:-/usr/bin/python3}
AWS_BIN=/usr/bin/aws

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tether-conf-cli.XXXXXX")
emu_pid=""
passed=0
failed=0

cleanup() {
	if [ -n "$emu_pid" ] && kill -0 "$emu_pid" 2>/dev/null; then
		kill -KILL "$emu_pid" 2>/dev/null || true
		wait "$emu_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' TERM INT # a ctest TIMEOUT sends TERM: still stop the emulator and clean up

export HOME="$tmp/home"
mkdir -p "$HOME"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER=""
export AWS_EC2_METADATA_DISABLED=true AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_REGION AWS_ENDPOINT_URL \
	AWS_ENDPOINT_URL_LAMBDA AWS_CA_BUNDLE 2>/dev/null || true

ok() {
	passed=$((passed + 1))
	echo "ok - $1"
}
not_ok() {
	failed=$((failed + 1))
	echo "not ok - $1"
}
# expect NAME WANT GOT
expect() {
	if [ "$2" == "$3" ]; then ok "$1"; else not_ok "$1: want [$2], got [$3]"; fi
}

"$TETHER_EMULATOR" --listen 127.0.0.1:0 --port-file "$tmp/port" \
	--create-delay-ms 300 --update-delay-ms 300 >"$tmp/emulator.log" 2>&1 &
emu_pid=$!
port=""
for _ in $(seq 1 300); do
	if [ -s "$tmp/port" ]; then
		port=$(tr -dc '0-9:' <"$tmp/port")
		port=${port##*:}
		[ -n "$port" ] && break
	fi
	kill -0 "$emu_pid" 2>/dev/null || { cat "$tmp/emulator.log"; echo "emulator died at start"; exit 1; }
	sleep 0.05
done
[ -n "$port" ] || { echo "emulator wrote no port file"; exit 1; }
endpoint="http://127.0.0.1:$port"

lam() { "$AWS_BIN" --endpoint-url "$endpoint" --output json lambda "$@"; }
q() { "$AWS_BIN" --endpoint-url "$endpoint" --output text lambda "$@"; }

role=arn:aws:iam::123456789012:role/cli-role
repo=123456789012.dkr.ecr.us-east-1.amazonaws.com/cli-app
fn=cli-fn

# Every aws call costs about a second of CPU, so each one checks as much as it can.
# --- image function ----------------------------------------------------------------
state=$(q create-function --function-name "$fn" --package-type Image \
	--code "ImageUri=$repo:v1" --role "$role" --query State)
expect "create-function starts Pending" Pending "$state"
lam wait function-active-v2 --function-name "$fn" && ok "wait function-active-v2" || not_ok "wait function-active-v2"
expect "publish-version 1" 1 "$(q publish-version --function-name "$fn" --query Version)"

got=$(q update-function-code --function-name "$fn" --image-uri "$repo:v2" --query LastUpdateStatus)
expect "update-function-code is InProgress" InProgress "$got"
lam wait function-updated-v2 --function-name "$fn" && ok "wait function-updated-v2" || not_ok "wait function-updated-v2"
expect "publish-version 2" 2 "$(q publish-version --function-name "$fn" --description release-2 --query Version)"

expect "create-alias" "arn:aws:lambda:us-east-1:123456789012:function:$fn:live" \
	"$(q create-alias --function-name "$fn" --name live --function-version 1 --query AliasArn)"
weight=$(q update-alias --function-name "$fn" --name live --function-version 2 \
	--routing-config 'AdditionalVersionWeights={1=0.2}' --query 'RoutingConfig.AdditionalVersionWeights."1"')
expect "update-alias routing weight" 0.2 "$weight"
expect "list-aliases" "live	2" "$(q list-aliases --function-name "$fn" --query 'Aliases[].[Name,FunctionVersion]')"

# --- invoke --------------------------------------------------------------------------
curl -sS -f -X PUT -H 'Content-Type: application/json' \
	--data "{\"key\":\"$repo:v2\",\"payload\":{\"from\":\"cli\"}}" "$endpoint/_emulator/invoke" >/dev/null
lam invoke --function-name "$fn" --cli-binary-format raw-in-base64-out \
	--payload '{"ping":1}' "$tmp/out.json" >"$tmp/invoke.json"
expect "invoke outfile holds the configured result" '{"from": "cli"}' \
	"$("$PY" -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))' "$tmp/out.json")"
expect "invoke StatusCode and ExecutedVersion" '200 $LATEST' \
	"$("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["StatusCode"], d["ExecutedVersion"])' "$tmp/invoke.json")"

# --- a refused delete ------------------------------------------------------------------
rc=0
lam delete-function --function-name "$fn" --qualifier 2 >"$tmp/del.out" 2>"$tmp/del.err" || rc=$?
if [ "$rc" -ne 0 ] && grep -q ResourceConflictException "$tmp/del.err"; then
	ok "delete-function --qualifier 2 (aliased) refused with ResourceConflictException"
else
	not_ok "delete-function --qualifier 2: rc=$rc $(cat "$tmp/del.err")"
fi
expect "versions survive the refused delete" "\$LATEST	1	2" \
	"$(q list-versions-by-function --function-name "$fn" --query 'Versions[].Version')"
expect "get-function --query" "\$LATEST	Image	Active	Successful	$repo:v2" \
	"$(q get-function --function-name "$fn" --query \
		'[Configuration.Version,Configuration.PackageType,Configuration.State,Configuration.LastUpdateStatus,Code.ImageUri]')"

# --- zip function: CodeSha256 is base64(sha256(zip)) -----------------------------------
"$PY" - "$tmp/fn.zip" <<'PYEOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("index.py", "def handler(e, c):\n    return 1\n")
PYEOF
want_sha=$("$PY" -c 'import base64,hashlib,sys; print(base64.b64encode(hashlib.sha256(open(sys.argv[1],"rb").read()).digest()).decode())' "$tmp/fn.zip")
got_sha=$(q create-function --function-name cli-zip --runtime python3.9 --handler index.handler \
	--role "$role" --zip-file "fileb://$tmp/fn.zip" --query CodeSha256)
expect "zip CodeSha256" "$want_sha" "$got_sha"
expect "list-functions: names, and no State field" "cli-fn	cli-zip	None" \
	"$(q list-functions --query '[sort(Functions[].FunctionName)[0],sort(Functions[].FunctionName)[1],Functions[0].State]')"

# --- delete -------------------------------------------------------------------------
sleep 0.4 # past the create window
lam delete-function --function-name cli-zip && ok "delete-function" || not_ok "delete-function"
rc=0
lam get-function --function-name cli-zip >/dev/null 2>"$tmp/nf.err" || rc=$?
if [ "$rc" -ne 0 ] && grep -q ResourceNotFoundException "$tmp/nf.err"; then
	ok "deleted function is not found"
else
	not_ok "get-function after delete: rc=$rc"
fi

# --- stop: SIGTERM by PID, exit status 0 ------------------------------------------------
kill -TERM "$emu_pid"
rc=0
wait "$emu_pid" || rc=$?
emu_pid=""
if [ "$rc" -eq 0 ]; then ok "emulator exits 0 on SIGTERM"; else
	not_ok "emulator exit status $rc"
	tail -50 "$tmp/emulator.log"
fi

echo "awscli_flow: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
