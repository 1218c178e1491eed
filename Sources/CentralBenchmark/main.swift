import Central
