"""resource-sharing: peer-to-peer interlibrary loan as a pure, typed core."""
