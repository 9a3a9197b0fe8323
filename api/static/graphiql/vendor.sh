#!/usr/bin/env bash
# Refresh the vendored GraphiQL assets from the npm registry (see README.md).
set -euo pipefail
cd "$(dirname "$0")"
REACT=18.2.0 GRAPHIQL=3.8.3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "react@$REACT" "react-dom@$REACT" "graphiql@$GRAPHIQL" >/dev/null)
for pkg in "react-$REACT" "react-dom-$REACT" "graphiql-$GRAPHIQL"; do
  mkdir -p "$work/$pkg" && tar xzf "$work/$pkg.tgz" -C "$work/$pkg"
done
cp "$work/react-$REACT/package/umd/react.production.min.js" .
cp "$work/react-dom-$REACT/package/umd/react-dom.production.min.js" .
cp "$work/graphiql-$GRAPHIQL/package/graphiql.min.js" "$work/graphiql-$GRAPHIQL/package/graphiql.min.css" .
cp "$work/react-$REACT/package/LICENSE" licenses/react.LICENSE
cp "$work/react-dom-$REACT/package/LICENSE" licenses/react-dom.LICENSE
cp "$work/graphiql-$GRAPHIQL/package/LICENSE" licenses/graphiql.LICENSE
sha256sum react.production.min.js react-dom.production.min.js graphiql.min.js graphiql.min.css > SHA256SUMS
echo "vendored react $REACT, graphiql $GRAPHIQL; now check the page and commit"
