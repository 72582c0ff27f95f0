# check-output.cmake - the CTest check of an example: runs PROGRAM with ARGS (separated by "|")
# and passes when it exits with status 0 and its standard output is exactly the file EXPECTED.
# Standard error is shown, not compared (the demo prints its timing there). On a difference the
# output is kept in OUTPUT (default: NAME.out in the working directory) and `diff -u` shown.
#   cmake -DPROGRAM=exe -DARGS=a|b -DEXPECTED=expected/NAME.txt [-DOUTPUT=file] -P check-output.cmake
string(REPLACE "|" ";" args "${ARGS}")
execute_process(COMMAND ${PROGRAM} ${args}
  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE status)
file(READ ${EXPECTED} expected)
if(err)
  message("${err}")
endif()
if(NOT status STREQUAL "0")
  message(FATAL_ERROR "${PROGRAM} exited with status ${status}")
endif()
if(NOT out STREQUAL expected)
  if(NOT OUTPUT)
    get_filename_component(name ${EXPECTED} NAME_WE)
    set(OUTPUT ${name}.out)
  endif()
  file(WRITE ${OUTPUT} "${out}")
  execute_process(COMMAND diff -u ${EXPECTED} ${OUTPUT})
  message(FATAL_ERROR "the output of ${PROGRAM} (in ${OUTPUT}) differs from ${EXPECTED}")
endif()
