# `distill tokenizer train|encode` end to end: train on a small corpus,
# encode with the written tokenizer.json, and check the exit codes, the ids
# (a special token is one id, the merges are used) and the refusals.
# cmake -DCLI=<distill> -DWORK=<dir> -P tokenizer_cli_test.cmake
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(corpus "")
foreach(i RANGE 40)
    string(APPEND corpus "the lowest newest widest tokenizer; café 東京 🙂\n")
endforeach()
file(WRITE ${WORK}/corpus.txt "${corpus}")

execute_process(COMMAND ${CLI} tokenizer train --input ${WORK}/corpus.txt --vocab-size 300
                        --split llama3 --special <|endoftext|> --output ${WORK}/tokenizer.json
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT EXISTS ${WORK}/tokenizer.json)
    message(FATAL_ERROR "train: exit ${rc}: ${err}")
endif()

execute_process(COMMAND ${CLI} tokenizer encode --tokenizer ${WORK}/tokenizer.json
                        --text "the newest<|endoftext|>" --json
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "encode: exit ${rc}: ${err}")
endif()
string(JSON count GET "${out}" count)
math(EXPR last_index "${count} - 1")
string(JSON last GET "${out}" ids ${last_index})
if(count GREATER 4 OR NOT last EQUAL 0)
    message(FATAL_ERROR "encode: expected at most 4 ids ending in 0 (<|endoftext|>), got ${out}")
endif()

execute_process(COMMAND ${CLI} tokenizer encode --tokenizer ${WORK}/missing.json --text x
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 1 OR NOT err MATCHES "missing.json")
    message(FATAL_ERROR "encode with a missing file: expected exit 1 naming it, got ${rc}: ${err}")
endif()
execute_process(COMMAND ${CLI} tokenizer train --input ${WORK}/corpus.txt --vocab-size 10
                        --output ${WORK}/small.json
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 1 OR NOT err MATCHES "vocab_size: expected at least 256")
    message(FATAL_ERROR "train with vocab 10: expected exit 1 and the reason, got ${rc}: ${err}")
endif()
execute_process(COMMAND ${CLI} tokenizer encode --tokenizer ${WORK}/tokenizer.json
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 2)
    message(FATAL_ERROR "encode without text: expected exit 2 (usage), got ${rc}: ${err}")
endif()
