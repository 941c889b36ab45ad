#!/usr/bin/env bash
# Builds dist/otb_billing-vX.Y.Z.zip from the git tag vX.Y.Z (make release). The version is
# the one in pyproject.toml, or the one given: scripts/release.sh [X.Y.Z]
#
# Refuses, and builds nothing, when in the tagged tree:
#   - pyproject.toml does not say that version,
#   - PROJECT_STATE.md does not name it on its "- Version:" line,
#   - the README's changelog has no "### X.Y.Z" entry.
# The zip holds exactly the tagged files (git archive), under otb_billing-vX.Y.Z/; unpacked on
# a server, its deploy/install.sh installs or upgrades.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

fail() {
  printf 'release: %s\n' "$*" >&2
  exit 1
}

version=${1:-$(sed -n 's/^version = "\(.*\)"$/\1/p' pyproject.toml | head -n 1)}
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "“$version” is not a version X.Y.Z"
tag=v$version
git rev-parse -q --verify "refs/tags/$tag^{commit}" >/dev/null \
  || fail "there is no tag $tag. Commit the release, then: git tag -a $tag -m 'OTB Billing $version'"

tagged() { git show "$tag:$1" 2>/dev/null || fail "the tag $tag has no $1"; }

# grep reads all its input (no -q): quitting at the first match would cut the pipe, and
# pipefail would then count git show's SIGPIPE as a failure.
tagged pyproject.toml | grep -x "version = \"$version\"" >/dev/null \
  || fail "pyproject.toml at $tag does not say version = \"$version\""
tagged PROJECT_STATE.md | grep -E "^- Version: $version\b" >/dev/null \
  || fail "PROJECT_STATE.md at $tag does not name the version on its line \"- Version: $version\""
tagged README.md | grep -E "^### $version( |$)" >/dev/null \
  || fail "the README changelog at $tag has no entry \"### $version\""

mkdir -p dist
out=dist/otb_billing-$tag.zip
rm -f "$out"
git archive --format=zip --prefix="otb_billing-$tag/" -o "$out" "$tag"
sha256sum "$out" | tee "$out.sha256"
echo "Built $out from $tag ($(git rev-parse --short "$tag^{commit}"))."
