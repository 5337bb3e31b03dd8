#!/bin/sh
# Every check `rdprescue --help` lists is in README.md's table ("| ID |"), has a section in
# docs/checks.md ("## ... ID") and an item in docs/rdprescue.1.md ("- ... `ID`").  A new check
# without its docs fails here; so does a message that names a command rdprescue does not have.
# (test_catalogue holds the README rows to the catalogue's text.)
. tests/lib/assert.sh
"$RP" --help >"$T/help" 2>&1
ids=$(sed -n '/^Checks:/,$ s/^  \([a-z_]*\.[a-z_]*\) .*/\1/p' "$T/help")
check "rdprescue --help lists checks" test -n "$ids"
for id in $ids; do
	re=$(printf '%s' "$id" | sed 's/\./\\./g')
	check "README.md lists $id" grep -q "^| $re |" README.md
	check "docs/checks.md has a section on $id" grep -q "^## .*\\b$re\\b" docs/checks.md
	check "docs/rdprescue.1.md lists $id" grep -q "^- .*\`$re\`" docs/rdprescue.1.md
done

# No message names a command rdprescue does not have ('rdprescue CMD' or rdprescue CMD TARGET).
cmds=$(sed -n -e 's/^  \([a-z][a-z]*\) .*/\1/p' -e 's/^[a-z: ]*rdprescue \([a-z][a-z]*\) .*/\1/p' "$T/help" | tr '\n' ' ')
check "rdprescue --help lists commands" test -n "$cmds"
named=$(grep -rhoE "'rdprescue [a-z]+|rdprescue [a-z]+ (TARGET|FILE|DEVICE)" src |
	sed 's/^.rdprescue //; s/^rdprescue //; s/ .*//' | sort -u)
for c in $named; do
	case " $cmds " in
	*" $c "*) ok "messages name the command $c, which exists" ;;
	*) fail "messages name the command $c" "rdprescue has no command '$c' (grep -rn 'rdprescue $c' src)" ;;
	esac
done
finish
