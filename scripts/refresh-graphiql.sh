#!/usr/bin/env bash
# Refresh the GraphiQL assets that FIR graph serves itself (gateway/static/graphiql/vendor):
# the browser bundles of graphiql, react and react-dom from their npm packages, and the licence of
# every package that npm installs for them (the graphiql bundle includes its dependencies).
# Usage: scripts/refresh-graphiql.sh   (needs Node.js and npm; bump the versions below to upgrade)
set -euo pipefail
GRAPHIQL=3.8.3
REACT=18.3.1 # graphiql 3 needs React 18; React 19 ships no browser (UMD) bundle

cd "$(dirname "$0")/.."
out=gateway/static/graphiql/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$work" && echo '{"private": true}' >package.json &&
	npm install --no-audit --no-fund --loglevel=error "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT")

rm -rf "$out"
mkdir -p "$out/licenses"
modules="$work/node_modules"
cp "$modules/graphiql/graphiql.min.js" "$modules/graphiql/graphiql.min.css" "$out/"
cp "$modules/react/umd/react.production.min.js" "$modules/react-dom/umd/react-dom.production.min.js" "$out/"
# a source map comment would make browsers ask for a file we do not ship
sed -i '/^\/\/# sourceMappingURL=/d; s#/\*\# sourceMappingURL=[^*]*\*/##' "$out"/*.js "$out"/*.css

{
	echo "graphiql $GRAPHIQL, react $REACT, react-dom $REACT (npm), refreshed by scripts/refresh-graphiql.sh"
	echo
	echo "package versions installed with them:"
} >"$out/VERSIONS"
find "$modules" -name package.json -path '*/node_modules/*/package.json' -not -path '*/node_modules/*/node_modules/*/*/package.json' |
	sort | while read -r manifest; do
	dir=$(dirname "$manifest")
	name=$(node -p "require('$manifest').name || ''")
	version=$(node -p "require('$manifest').version || ''")
	[ -n "$name" ] && [ -n "$version" ] || continue
	[ "$(realpath "$dir")" = "$(realpath "$modules/$name")" ] || [[ "$dir" == */node_modules/"$name" ]] || continue
	echo "  $name $version" >>"$out/VERSIONS"
	licence=$(find "$dir" -maxdepth 1 -iname 'licen[cs]e*' | head -1)
	if [ -n "$licence" ]; then
		cp "$licence" "$out/licenses/${name//\//__}.txt"
	else
		echo "$name $version: $(node -p "require('$manifest').license || 'see package'")" >"$out/licenses/${name//\//__}.txt"
	fi
done
echo "wrote $out"
