@echo off
rem Starts Speech Edge with Docker Desktop: double-click this file, or run start.bat.
rem Put your license key in .env first (LICENSE_KEY=...). README.md explains everything.
rem   start.bat --check   prints the support check (license, minutes left, network).
setlocal EnableExtensions
cd /d "%~dp0"

if not exist ".env" (
  copy /y ".env.example" ".env" >nul
  echo Created .env. Put the license key from your vendor after LICENSE_KEY= , save the file,
  echo then run start.bat again.
  start "" notepad ".env"
  goto fail
)

set "LICENSE_KEY="
set "EDGE_PORT="
for /f "usebackq eol=# tokens=1,* delims==" %%A in (".env") do (
  if /i "%%A"=="LICENSE_KEY" set "LICENSE_KEY=%%B"
  if /i "%%A"=="EDGE_PORT" set "EDGE_PORT=%%B"
)
if not defined EDGE_PORT set "EDGE_PORT=3000"
if not defined LICENSE_KEY (
  echo LICENSE_KEY is empty in .env. Put the license key from your vendor after LICENSE_KEY=
  echo and run start.bat again.
  goto fail
)

docker version >nul 2>&1
if errorlevel 1 (
  echo Docker Desktop is not running. Start Docker Desktop, wait until it reports that it is
  echo running, then run start.bat again.
  goto fail
)
docker compose version >nul 2>&1
if errorlevel 1 (
  echo This Docker has no "docker compose". Update Docker Desktop, then run start.bat again.
  goto fail
)

if exist "edge-image.tar" (
  echo Loading the edge image from edge-image.tar ...
  docker load -i "edge-image.tar" >nul
)

rem Docker Desktop has no /dev/snd: the page uses the browser's microphone.
set "FILES=-f compose.yml -f compose.browser-mic.yml"
if exist "central-ca.pem" set "FILES=%FILES% -f compose.ca.yml"

if /i "%~1"=="--check" (
  docker compose %FILES% run --rm --no-deps edge --check
  goto done
)

docker compose %FILES% up -d
if errorlevel 1 (
  echo Could not start the edge: see the message above and README.md, "Troubleshooting".
  goto fail
)

echo.
echo Speech Edge is running: open http://localhost:%EDGE_PORT%
echo Minutes left are shown on the page. Stop it with stop.bat.
start "" "http://localhost:%EDGE_PORT%"
goto done

:fail
pause
endlocal
exit /b 1

:done
pause
endlocal
exit /b 0
