# sy_embed_files(<target> NAMESPACE <ns> FILES <file>...)
# Compiles the given text files into <target> as string constants, so that binaries carry their
# JSON schemas and SQL migrations and never depend on files found at run time.
# Lookup: `std::optional<std::string_view> <ns>::embedded_file(std::string_view relative_name)`
# and `<ns>::embedded_files()` (sorted by name).
function(sy_embed_files target)
  cmake_parse_arguments(ARG "" "NAMESPACE;BASE_DIR" "FILES" ${ARGN})
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${target}_embedded.cpp)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DNAMESPACE=${ARG_NAMESPACE} -DBASE_DIR=${ARG_BASE_DIR}
            "-DFILES=${ARG_FILES}" -P ${PROJECT_SOURCE_DIR}/cmake/sy_embed_generate.cmake
    DEPENDS ${ARG_FILES} ${PROJECT_SOURCE_DIR}/cmake/sy_embed_generate.cmake
    COMMENT "Embedding ${target} files"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
endfunction()
