@echo off
rem Stops Speech Edge. The device identity is kept: the next start is the same device.
setlocal EnableExtensions
cd /d "%~dp0"
rem Not "down -v": the named volume keeps the device identity.
docker compose -f compose.yml down
if errorlevel 1 (
  pause
  endlocal
  exit /b 1
)
echo Speech Edge stopped.
pause
endlocal
exit /b 0
