// alertui: the silence form's helpers. The form works without this file.
