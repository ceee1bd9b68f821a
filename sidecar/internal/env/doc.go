// Package env finds Python environments (workspace venvs, conda envs, the
// system Python) and turns one into a kernel launch spec that really runs
// inside it: a venv gets VIRTUAL_ENV and its bin first on PATH; a conda env
// runs through `conda run` when conda exists, else with the environment its
// activation scripts produce, captured once through bash.
//
// Each candidate's python is run once (with a timeout) to learn its version,
// its real sys.prefix and whether ipykernel is importable, so a missing
// ipykernel is reported before a launch, with the exact install command.
package env
