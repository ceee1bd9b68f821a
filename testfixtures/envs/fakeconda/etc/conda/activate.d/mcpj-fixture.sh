# Sourced on activation, like a package's activate.d hook (e.g. cudatoolkit's).
export MCPJ_ACTIVATED="yes:$CONDA_PREFIX"
export LD_LIBRARY_PATH="$CONDA_PREFIX/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "activate.d chatter on stdout must not end up in the environment"
