#!/bin/bash
# The baseline bench/converge compares tether with: what the seed write-ups do by hand,
# one function after another with Debian's AWS CLI (/usr/bin/aws):
#
#   aws lambda update-function-code --function-name F --image-uri URI
#   aws lambda wait function-updated --function-name F      (the seed's waiter)
#   VERSION=$(aws lambda publish-version --function-name F --query Version --output text)
#   aws lambda update-alias --function-name F --name live --function-version $VERSION
#
# usage: baseline.sh ENDPOINT FUNCTIONS_FILE [function-updated|function-updated-v2]
# FUNCTIONS_FILE has one "NAME IMAGE_URI" per line. Credentials and region come from the
# environment (converge.py sets AWS_ACCESS_KEY_ID, AWS_REGION, ...). Stops at the first
# failing command, like a CI script with set -e.
set -euo pipefail
endpoint=$1
list=$2
waiter=${3:-function-updated}
aws=(/usr/bin/aws --endpoint-url "$endpoint" --no-cli-pager)

while read -r fn uri; do
	"${aws[@]}" lambda update-function-code --function-name "$fn" --image-uri "$uri" \
		--query FunctionArn --output text >/dev/null
	"${aws[@]}" lambda wait "$waiter" --function-name "$fn"
	version=$("${aws[@]}" lambda publish-version --function-name "$fn" \
		--query Version --output text)
	"${aws[@]}" lambda update-alias --function-name "$fn" --name live \
		--function-version "$version" --query AliasArn --output text >/dev/null
	echo "$fn -> $version" >&2
done <"$list"
