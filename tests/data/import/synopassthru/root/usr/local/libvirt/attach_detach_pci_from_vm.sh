#!/bin/bash
# A stand-in for the community worker: import neither reads nor runs it.
echo "the test fixture's worker must never run" >&2
exit 1
