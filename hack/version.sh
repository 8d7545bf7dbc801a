#!/usr/bin/env bash
# The release version, as semver with a leading v (krew's rule): the git tag on HEAD when there
# is one (v1.2.3), else the VERSION file (1.2.3 -> v1.2.3). A commit id is never a version: the
# commit is stamped into the binary on its own (kubectl sherpack version).
set -euo pipefail
cd "$(dirname "$0")/.."
if tag=$(git describe --tags --exact-match --match 'v[0-9]*' 2>/dev/null); then
  v=$tag
else
  v=$(tr -d ' \t\r\n' < VERSION)
fi
case "$v" in v*) ;; *) v=v$v ;; esac
if ! [[ $v =~ ^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$ ]]; then
  echo "version $v (from the git tag or VERSION) is not semver: want v1.2.3 or v1.2.3-rc.1" >&2
  exit 1
fi
echo "$v"
