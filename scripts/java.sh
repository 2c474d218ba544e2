#!/usr/bin/env bash
# Make sure a Java runtime of version 17 or later is there for the Spark tests (Splink's Spark
# backend, `lastmile resolve --engine spark`): PySpark starts `$JAVA_HOME/bin/java`, or `java`
# on PATH. Installs Debian's headless JRE when none is found (CI runs as root on a fresh
# machine). Prints the java it found on stderr; nothing on stdout.
set -euo pipefail
exec 1>&2

version() {
  # "17.0.15" -> 17; "1.8.0_392" -> 8
  "$1" -version 2>&1 | awk -F'"' '/version/ {print $2; exit}' | awk -F. '{print ($1 == 1) ? $2 : $1}'
}

java_bin=""
if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
  java_bin="$JAVA_HOME/bin/java"
elif command -v java >/dev/null 2>&1; then
  java_bin=$(command -v java)
fi

if [ -z "$java_bin" ] || [ "$(version "$java_bin")" -lt 17 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "java.sh: Java 17 or later is needed for the Spark tests; install openjdk-17-jre-headless"
    exit 1
  fi
  apt-get update -qq
  apt-get install -y -qq openjdk-17-jre-headless </dev/null >/dev/null
  java_bin=$(command -v java)
  if [ -n "${JAVA_HOME:-}" ] && [ "$(version "$JAVA_HOME/bin/java" 2>/dev/null || echo 0)" -lt 17 ]; then
    echo "java.sh: JAVA_HOME=$JAVA_HOME names an older Java; unset it or point it at Java 17+"
    exit 1
  fi
fi
echo "java.sh: $java_bin (version $(version "$java_bin"))"
