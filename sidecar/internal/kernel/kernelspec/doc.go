// Package kernelspec finds Jupyter kernelspecs the way jupyter_client does:
// the same search path (JUPYTER_PATH, the user data dir, the environment
// prefixes' share/jupyter, the system dirs), the same "first directory wins"
// rule for a name (names are case-insensitive and compared lowercased), and the
// same ${VAR} expansion of the spec's env stanza. A malformed kernel.json is
// reported and skipped; it never stops the search.
package kernelspec
