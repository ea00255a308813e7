<?php
echo "fast pid=" . getmypid() . "\n";
