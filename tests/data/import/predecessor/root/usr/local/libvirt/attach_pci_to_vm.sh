#!/bin/bash
# A stand-in for the predecessor's worker: import neither reads nor runs it.
exit 1
