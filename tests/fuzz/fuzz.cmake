# Fuzz harnesses (tests/fuzz/, docs/fuzzing.md). Included from the top-level
# CMakeLists.txt after the library.
#
# Every build: each harness is linked with replay_main.c into
# fuzz_<name>_replay, and the ctest fuzz_<name> replays its seed corpus
# (tests/fuzz/corpus/<name>/) and its regression inputs
# (tests/fuzz/regressions/<name>/, not the pending/ subfolder).
# -DT2I_FUZZ=ON (clang): also the libFuzzer binaries fuzz_<name> (target
# "fuzzers"), which tools/fuzz.sh runs.
set(T2I_FUZZ_HARNESSES safetensors safetensors_set model_config prompt clip_bpe hf_tokenizer
    wordpiece styles infotext png image server_params server_multipart)
set(T2I_FUZZ_DIR ${CMAKE_CURRENT_SOURCE_DIR}/tests/fuzz)

if(T2I_FUZZ)
  add_custom_target(fuzzers)
endif()
foreach(h ${T2I_FUZZ_HARNESSES})
  set(srcs ${T2I_FUZZ_DIR}/fuzz_${h}.c ${T2I_FUZZ_DIR}/fuzz_util.c)
  if(h STREQUAL "server_params")
    # Request validation and the catalog it checks styles against; the rest
    # of the server is stubbed in the harness.
    list(APPEND srcs ${CMAKE_CURRENT_SOURCE_DIR}/server/params.c
         ${CMAKE_CURRENT_SOURCE_DIR}/server/styles.c ${CMAKE_CURRENT_SOURCE_DIR}/server/job.c)
  endif()
  if(h STREQUAL "server_multipart")   # the editing routes' parsers, standalone
    list(APPEND srcs ${CMAKE_CURRENT_SOURCE_DIR}/server/multipart.c ${CMAKE_CURRENT_SOURCE_DIR}/server/image_probe.c)
  endif()
  add_executable(fuzz_${h}_replay ${srcs} ${T2I_FUZZ_DIR}/replay_main.c)
  target_link_libraries(fuzz_${h}_replay PRIVATE t2i_lib)
  target_compile_definitions(fuzz_${h}_replay PRIVATE
    T2I_SOURCE_DIR="${CMAKE_CURRENT_SOURCE_DIR}")
  set(inputs)
  foreach(d corpus/${h} regressions/${h})
    if(EXISTS ${T2I_FUZZ_DIR}/${d})
      list(APPEND inputs ${T2I_FUZZ_DIR}/${d})
    endif()
  endforeach()
  add_test(NAME fuzz_${h} COMMAND fuzz_${h}_replay ${inputs}
           WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
  set_tests_properties(fuzz_${h} PROPERTIES TIMEOUT 300 LABELS fuzz)
  if(T2I_FUZZ)
    add_executable(fuzz_${h} ${srcs})
    target_link_libraries(fuzz_${h} PRIVATE t2i_lib)
    target_compile_definitions(fuzz_${h} PRIVATE
      T2I_SOURCE_DIR="${CMAKE_CURRENT_SOURCE_DIR}")
    target_link_options(fuzz_${h} PRIVATE -fsanitize=fuzzer)
    add_dependencies(fuzzers fuzz_${h})
  endif()
endforeach()
