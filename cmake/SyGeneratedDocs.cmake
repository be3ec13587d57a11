# sy_generated_docs(PROGRAM): the man page and bash completion script of PROGRAM, generated at
# build time from its own command-line definitions (PROGRAM --generate-man-page and
# --generate-completion bash), and installed where Debian looks for them. Section 8 for the
# daemons, 1 for the rest, as common/command_line/command_line.cpp's man_section says.
function(sy_generated_docs program)
  if(program STREQUAL "sy-controller" OR program STREQUAL "sy-agent")
    set(section 8)
  else()
    set(section 1)
  endif()
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/generated)
  set(man ${dir}/${program}.${section})
  set(completion ${dir}/${program}.bash)
  add_custom_command(OUTPUT ${man} ${completion}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${dir}
    COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=0
      sh -c "\"$1\" --generate-man-page > \"$2\" && \"$1\" --generate-completion bash > \"$3\""
      generate $<TARGET_FILE:${program}> ${man} ${completion}
    DEPENDS ${program}
    COMMENT "Generating the man page and completion of ${program}"
    VERBATIM)
  add_custom_target(${program}-generated-docs ALL DEPENDS ${man} ${completion})
  install(FILES ${man} DESTINATION share/man/man${section})
  install(FILES ${completion} DESTINATION share/bash-completion/completions RENAME ${program})
endfunction()
