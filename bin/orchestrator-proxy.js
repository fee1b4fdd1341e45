#!/usr/bin/env node
import "../dist/client/proxy/main.js"
