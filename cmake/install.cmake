# cmake/install.cmake - what `cmake --install BUILD --prefix PREFIX` puts where:
#   PREFIX/bin/k23vm                         the command-line tool
#   PREFIX/lib/libk23vm.a, libk23wasi.a      the VM and the WASI library
#   PREFIX/include/k23vm.h, include/k23vm/   the public headers
#   PREFIX/lib/pkgconfig/k23vm.pc            pkg-config: cc prog.c $(pkg-config --cflags --libs k23vm)
#   PREFIX/lib/cmake/k23vm/                  find_package(k23vm): targets k23vm::k23vm, k23vm::wasi
# Both descriptions find the prefix from where they lie, so an installed tree can be moved.
# tools/install-check/ builds a program against an installed copy both ways (CTest install_check).
include(CMakePackageConfigHelpers)

install(TARGETS k23vm k23wasi ARCHIVE DESTINATION lib)
install(TARGETS k23vm_cli RUNTIME DESTINATION bin)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/ DESTINATION include FILES_MATCHING PATTERN "*.h")

# libffi, when libk23vm.a was built with it (src/host/ffi.c), must come along at link time.
set(K23VM_PC_LIBS_EXTRA "")
set(K23VM_PC_CFLAGS_EXTRA "")
set(K23VM_CONFIG_FFI OFF)
if(FFI_FOUND)
  set(K23VM_PC_LIBS_EXTRA " ${FFI_LDFLAGS}")
  string(REPLACE ";" " " K23VM_PC_LIBS_EXTRA "${K23VM_PC_LIBS_EXTRA}")
  set(K23VM_PC_CFLAGS_EXTRA " -DK23VM_HAVE_FFI=1")
  set(K23VM_CONFIG_FFI ON)
endif()
configure_file(${CMAKE_SOURCE_DIR}/cmake/k23vm.pc.in ${CMAKE_BINARY_DIR}/k23vm.pc @ONLY)
configure_file(${CMAKE_SOURCE_DIR}/cmake/k23vmConfig.cmake.in ${CMAKE_BINARY_DIR}/k23vmConfig.cmake @ONLY)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/k23vmConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/k23vm.pc DESTINATION lib/pkgconfig)
install(FILES ${CMAKE_BINARY_DIR}/k23vmConfig.cmake ${CMAKE_BINARY_DIR}/k23vmConfigVersion.cmake
  DESTINATION lib/cmake/k23vm)
