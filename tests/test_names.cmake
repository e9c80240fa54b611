# Fails when a Catch test name holds a ';': catch_discover_tests cuts the CTest name there, so the
# test runs under a filter that matches nothing ("No test cases matched") and fails — or, worse,
# a half-name filter matches nothing and the test silently never runs.
file(GLOB_RECURSE sources ${DIR}/*.cpp)
set(bad "")
foreach(f ${sources})
  file(STRINGS ${f} lines REGEX "TEST_CASE\\(\"[^\"]*;")
  foreach(l ${lines})
    string(APPEND bad "\n${f}: ${l}")
  endforeach()
endforeach()
if(NOT bad STREQUAL "")
  message(FATAL_ERROR "test names must not contain ';':${bad}")
endif()
