# The TETHER_VALGRIND build (docs/memcheck.md), included by tests/CMakeLists.txt before any
# test is registered and only in that build, so that the normal and sanitizer builds
# register their tests exactly as they would without it. Every test under tests/:
#   - carries the label "valgrind";
#   - runs the programs this project builds under memcheck, through lib/valgrind-run, where
#     an error or a leak is the exit status 99: a test executable named as the test's
#     COMMAND directly, tether and tether-emulator through TETHER_BIN and TETHER_EMULATOR,
#     and a program passed on a test's command line through tether_test_program();
#   - gets TIMEOUT x TETHER_TEST_TIME_SCALE, and TETHER_TEST_TIME_SCALE in its environment
#     (through TETHER_TEST_ENV) for the waits the test helpers make (lib/timescale.py);
#   - is disabled if TETHER_VALGRIND_EXCLUDED names it.
if(CMAKE_VERSION VERSION_LESS 3.20)
	message(FATAL_ERROR "TETHER_VALGRIND needs CMake 3.20 (file(GENERATE ... FILE_PERMISSIONS))")
endif()
find_program(VALGRIND_PROGRAM valgrind REQUIRED)

set(TETHER_VALGRIND_RUN ${CMAKE_CURRENT_SOURCE_DIR}/lib/valgrind-run)
# One report per process, <program>.<pid>.log; scripts/valgrind empties the folder before a
# run and counts the reports after it.
set(TETHER_VALGRIND_LOG_DIR ${PROJECT_BINARY_DIR}/valgrind/logs)
# Sticky and writable by all, like /tmp: the bad-input tests run tether as uid 65534.
file(MAKE_DIRECTORY ${TETHER_VALGRIND_LOG_DIR})
execute_process(COMMAND chmod 1777 ${TETHER_VALGRIND_LOG_DIR} COMMAND_ERROR_IS_FATAL ANY)
# Under memcheck a program runs 10-50 times slower when it computes and takes about 1 s
# longer to start; a test takes 2 to 30 times its normal time, and its TIMEOUT (set for
# ASan, several tests at once) times 10 leaves room (docs/memcheck.md has the figures).
set(TETHER_TEST_TIME_SCALE 10)

# The label: on the folder, for every test below it, and (set_tests_properties() below) in
# every LABELS a test sets, because ctest gives a folder's labels only to tests that run in
# their build folder, not to those with a WORKING_DIRECTORY. scripts/valgrind checks that
# every test has it.
set_property(DIRECTORY APPEND PROPERTY LABELS valgrind)

# A target named as a test's COMMAND is run through this prefix. CMake calls it the
# cross-compiling emulator; CMP0158 (CMake 3.28) would apply it only when cross compiling.
if(POLICY CMP0158)
	cmake_policy(SET CMP0158 OLD)
endif()
set(CMAKE_CROSSCOMPILING_EMULATOR ${TETHER_VALGRIND_RUN} --log-dir=${TETHER_VALGRIND_LOG_DIR})

# tether_test_program(<var> <target>) for this build: a script, written at generate time
# as valgrind/bin/<output name>, that runs the target's executable under memcheck. The
# script has the executable's own name: docs/test_readme_tour.py puts its folder on PATH.
function(tether_test_program var target)
	get_target_property(out ${target} OUTPUT_NAME)
	if(NOT out)
		set(out ${target})
	endif()
	set(script ${PROJECT_BINARY_DIR}/valgrind/bin/${out})
	set(${var} ${script} PARENT_SCOPE)
	# One file(GENERATE) per output in the whole project: the first folder to ask writes it.
	get_property(done GLOBAL PROPERTY TETHER_VALGRIND_PROGRAMS)
	if(target IN_LIST done)
		return()
	endif()
	set_property(GLOBAL APPEND PROPERTY TETHER_VALGRIND_PROGRAMS ${target})
	file(GENERATE OUTPUT ${script}
		CONTENT "#!/bin/sh\n# tests/valgrind.cmake: ${target} under memcheck\nexec '${TETHER_VALGRIND_RUN}' '--log-dir=${TETHER_VALGRIND_LOG_DIR}' '$<TARGET_FILE:${target}>' \"$@\"\n"
		FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
			WORLD_READ WORLD_EXECUTE)
endfunction()

# The tests that do not run in this build (ctest lists them as "Disabled"), each for a
# reason other than a fault of tether's: they measure real time more finely than a program
# slowed down by memcheck can keep to. docs/memcheck.md says more.
set(TETHER_VALGRIND_EXCLUDED
	# Grant spacing of the token buckets to a 0.5 ms clock slack and a 10 ms tolerance,
	# read in the grant callbacks: under memcheck a callback runs milliseconds late.
	unit.ratelimit
	# Windows of tether's own fixed timeouts (the 1 s instance-metadata timeout, a refresh
	# under way within the 2 s container timeout) timed around a whole probe process, whose
	# start alone takes about 2 s under memcheck.
	integration.credentials)

# Every test sets its TIMEOUT and LABELS with set_tests_properties() in its own folder, and
# CMake 3.25 cannot change a test property from another folder: in this build that command
# scales TIMEOUT, adds "valgrind" to LABELS, disables the tests TETHER_VALGRIND_EXCLUDED
# names, and hands the rest to the built-in one (reached as _set_tests_properties, CMake's
# name for the command a function overrides). Each argument is passed in a bracket
# argument, so that a list value (ENVIRONMENT "${TETHER_TEST_ENV}") stays one argument.
function(set_tests_properties)
	set(call "_set_tests_properties(")
	set(prev "")
	set(tests TRUE)
	math(EXPR last "${ARGC} - 1")
	foreach(i RANGE ${last})
		set(arg "${ARGV${i}}")
		if(arg STREQUAL "PROPERTIES")
			set(tests FALSE)
		elseif(tests AND arg IN_LIST TETHER_VALGRIND_EXCLUDED)
			_set_tests_properties(${arg} PROPERTIES DISABLED TRUE)
		elseif(prev STREQUAL "TIMEOUT")
			math(EXPR arg "${arg} * ${TETHER_TEST_TIME_SCALE}")
		elseif(prev STREQUAL "LABELS")
			list(APPEND arg valgrind)
		endif()
		set(prev "${arg}")
		string(APPEND call " [==[${arg}]==]")
	endforeach()
	cmake_language(EVAL CODE "${call})")
endfunction()
