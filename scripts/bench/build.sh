# Sourced by the bench scripts: build_quietly <script name> <project>... builds each project in Release and shows the
# build's output only when it fails, with a line naming the project (MSBuild writes its errors to stdout, so with
# >/dev/null a broken build ended a script with exit code 1 and not a word).
build_quietly() {
  local script=$1 project output code
  shift
  for project in "$@"; do
    output=$(dotnet build -c Release "$project" -v q -nologo 2>&1) || {
      code=$?
      printf '%s\n' "$output" >&2
      echo "$script: the build of $project failed (exit code $code, output above); nothing was measured" >&2
      exit "$code"
    }
  done
}
