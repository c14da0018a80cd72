# WAMR platform description for tinyloop's bare-metal Cortex-M boards. Not a build script: WAMR's
# own CMake includes it when given -DSHARED_PLATFORM_CONFIG=<this file> (see docs/wamr.md).
# It only adds the include directories; the os_* functions are compiled into the firmware
# (firmware/port/wamr/platform_baremetal.c), so the library WAMR builds leaves them undefined.
set (PLATFORM_SHARED_DIR ${CMAKE_CURRENT_LIST_DIR})
add_definitions (-DBH_PLATFORM_TINYLOOP_BAREMETAL)
include_directories (${PLATFORM_SHARED_DIR})
include_directories (${SHARED_DIR}/platform/include)
set (PLATFORM_SHARED_SOURCE "")
