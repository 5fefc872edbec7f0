// alertui: the alerts page's keyboard and filter helpers. The page works without this file.
